package io.h3relay.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A UDP relay that behaves like a NAT between a client and h3relay's QUIC port, for tests:
 * <pre>
 *   client ──► front socket (port()) ──► binding socket (a fresh port per binding) ──► server
 *   client ◄── front socket          ◄── binding socket                            ◄── server
 * </pre>
 * A binding expires when the client sent nothing through it for {@code bindingTimeout}: from then on what
 * the server sends to it is dropped (as a NAT drops packets for a mapping it forgot), and the client's next
 * datagram opens a new binding, on a new port: the server sees the client's address change (NAT rebinding).
 * {@link #blackhole} drops everything both ways (a client that went away without a word). Every datagram
 * from the server is timestamped on arrival, delivered or not, so a test can count what the server sent.
 * One client at a time; a thread per socket.
 */
final class UdpNat implements AutoCloseable {
    private final InetSocketAddress server;
    private final long timeoutNanos;
    private final DatagramChannel front;
    private final List<Binding> bindings = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<Long> fromServer = new ConcurrentLinkedQueue<>();
    private final AtomicInteger dropped = new AtomicInteger();
    private volatile Binding current;
    private volatile SocketAddress client;
    private volatile boolean blackhole;

    private volatile boolean closed;

    /** {@code bindingTimeout} null: bindings never expire. */
    UdpNat(InetSocketAddress server, Duration bindingTimeout) {
        this.server = server;
        this.timeoutNanos = bindingTimeout == null ? Long.MAX_VALUE : bindingTimeout.toNanos();
        try {
            front = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread.ofPlatform().daemon().name("udp-nat-front").start(this::frontLoop);
    }

    int port() {
        try {
            return ((InetSocketAddress) front.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Bindings opened so far: 1 while the first one never expired. */
    int bindings() {
        return bindings.size();
    }

    /** Datagrams from the server dropped because their binding had expired or the blackhole was on. */
    int dropped() {
        return dropped.get();
    }

    /** Datagrams the server sent (delivered or not) that arrived at or after {@code fromNanos}, before {@code toNanos}. */
    long fromServerBetween(long fromNanos, long toNanos) {
        return fromServer.stream().filter(t -> t - fromNanos >= 0 && t - toNanos < 0).count();
    }

    void blackhole(boolean on) {
        blackhole = on;
    }

    private void frontLoop() {
        ByteBuffer buf = ByteBuffer.allocate(65536);
        while (!closed) {
            try {
                buf.clear();
                SocketAddress from = front.receive(buf);
                if (blackhole) {
                    continue;
                }
                buf.flip();
                client = from;
                Binding b = current;
                long now = System.nanoTime();
                if (b == null || b.expired(now)) {
                    b = new Binding();
                    bindings.add(b);
                    current = b;
                }
                b.lastOutbound = now;
                b.channel.send(buf, server);
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            front.close();
            for (Binding b : bindings) {
                b.channel.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private final class Binding {
        final DatagramChannel channel;
        volatile long lastOutbound = System.nanoTime();

        Binding() {
            try {
                channel = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Thread.ofPlatform().daemon().name("udp-nat-binding").start(this::serverLoop);
        }

        boolean expired(long now) {
            return now - lastOutbound > timeoutNanos;
        }

        private void serverLoop() {
            ByteBuffer buf = ByteBuffer.allocate(65536);
            while (!closed) {
                try {
                    buf.clear();
                    channel.receive(buf);
                    long now = System.nanoTime();
                    fromServer.add(now);
                    if (blackhole || current != this || expired(now)) {
                        dropped.incrementAndGet();
                        continue;
                    }
                    buf.flip();
                    front.send(buf, client);
                } catch (ClosedChannelException e) {
                    return;
                } catch (IOException e) {
                    if (!closed) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
        }
    }
}
