package io.h3relay.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test-only QUIC-LB layer-4 router in front of several h3relay instances with 1-byte server ids:
 * <pre>
 *   short header (1-RTT): routed by the server id in byte 1 of the 20-byte destination id (QUIC-LB plaintext)
 *   long header (handshake): the backend of the client address, chosen round robin when the address is new
 * </pre>
 * Each (client address, backend) pair gets its own upstream socket, so a client that moves to a new address
 * shows up at the backend from a new address too (as behind a real balancer that keeps the client address).
 * Round robin for new addresses means a migrated client would land on the wrong instance if the router did
 * not read the id. One thread per socket.
 */
final class QuicLbRouter implements AutoCloseable {
    private final List<InetSocketAddress> backends;
    private final Map<Integer, Integer> byServerId;
    private final DatagramChannel front;
    private final Map<SocketAddress, Integer> backendOfClient = new ConcurrentHashMap<>();
    private final Map<String, DatagramChannel> upstreams = new ConcurrentHashMap<>();
    private final List<DatagramChannel> all = new CopyOnWriteArrayList<>();
    private final AtomicInteger next;
    private final AtomicInteger byId = new AtomicInteger();
    private volatile boolean closed;

    /** {@code serverIds.get(i)} is the 1-byte server id of {@code backends.get(i)}; new clients start at {@code first}. */
    QuicLbRouter(List<InetSocketAddress> backends, List<Integer> serverIds, int first) {
        this.backends = backends;
        this.byServerId = new ConcurrentHashMap<>();
        for (int i = 0; i < serverIds.size(); i++) {
            byServerId.put(serverIds.get(i), i);
        }
        this.next = new AtomicInteger(first);
        try {
            front = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread.ofPlatform().daemon().name("quic-lb-front").start(this::frontLoop);
    }

    int port() {
        try {
            return ((InetSocketAddress) front.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * From now on, short-header packets for {@code serverId} go to {@code backends.get(backend)}: what a balancer
     * does when it believes an instance gone (its table changed, a health check failed), while the instance and
     * its connections still live.
     */
    void reroute(int serverId, int backend) {
        byServerId.put(serverId, backend);
    }

    /** Short-header packets routed by their connection id's server id. */
    int routedById() {
        return byId.get();
    }

    private void frontLoop() {
        ByteBuffer buf = ByteBuffer.allocate(65536);
        while (!closed) {
            try {
                buf.clear();
                SocketAddress client = front.receive(buf);
                buf.flip();
                int backend;
                byte first = buf.get(0);
                Integer routed = (first & 0x80) == 0 && buf.remaining() > 22 ? byServerId.get(buf.get(2) & 0xff) : null;
                if (routed != null) {
                    backend = routed;
                    byId.incrementAndGet();
                } else {
                    backend = backendOfClient.computeIfAbsent(client, c -> next.getAndIncrement() % backends.size());
                }
                upstream(client, backend).send(buf, backends.get(backend));
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    private DatagramChannel upstream(SocketAddress client, int backend) {
        return upstreams.computeIfAbsent(client + "/" + backend, k -> {
            try {
                DatagramChannel ch = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
                all.add(ch);
                Thread.ofPlatform().daemon().name("quic-lb-up").start(() -> back(ch, client));
                return ch;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private void back(DatagramChannel ch, SocketAddress client) {
        ByteBuffer buf = ByteBuffer.allocate(65536);
        while (!closed) {
            try {
                buf.clear();
                ch.receive(buf);
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

    @Override
    public void close() {
        closed = true;
        try {
            front.close();
            for (DatagramChannel ch : all) {
                ch.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
