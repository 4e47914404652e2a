package io.h3relay.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.SplittableRandom;
import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A UDP relay that impairs a QUIC path the way {@code tc netem} would (this machine's kernel has no netem
 * qdisc: {@code tc qdisc add dev lo root netem} answers "Specified qdisc kind is unknown", although network
 * namespaces work): each datagram, in either direction, is dropped with probability {@code loss},
 * duplicated with probability {@code duplicate}, and delivered after {@code delay} plus up to {@code jitter}
 * of random extra delay, so datagrams overtake each other (reordering). One client at a time; a thread per
 * direction to receive and one to deliver. Seeded, so a failing run can be replayed.
 * <pre>
 *   client ──► port() ──[loss, dup, delay+jitter]──► server
 *   client ◄── port() ◄─[loss, dup, delay+jitter]─── upstream socket ◄── server
 * </pre>
 */
final class UdpImpairment implements AutoCloseable {
    record Settings(double loss, double duplicate, long delayMillis, long jitterMillis, long seed) {
    }

    private final InetSocketAddress server;
    private final Settings settings;
    private final DatagramChannel front;
    private final DatagramChannel back;
    private final DelayQueue<Datagram> queue = new DelayQueue<>();
    private final SplittableRandom random;
    final AtomicLong delivered = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();
    final AtomicLong duplicated = new AtomicLong();
    private volatile SocketAddress client;
    private volatile boolean closed;

    UdpImpairment(InetSocketAddress server, Settings settings) {
        this.server = server;
        this.settings = settings;
        this.random = new SplittableRandom(settings.seed());
        try {
            front = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
            back = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread.ofPlatform().daemon().name("udp-impair-front").start(() -> receive(front, true));
        Thread.ofPlatform().daemon().name("udp-impair-back").start(() -> receive(back, false));
        Thread.ofPlatform().daemon().name("udp-impair-deliver").start(this::deliver);
    }

    int port() {
        try {
            return ((InetSocketAddress) front.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void receive(DatagramChannel from, boolean toServer) {
        ByteBuffer buf = ByteBuffer.allocate(65536);
        while (!closed) {
            try {
                buf.clear();
                SocketAddress sender = from.receive(buf);
                if (toServer) {
                    client = sender;
                }
                buf.flip();
                byte[] bytes = new byte[buf.remaining()];
                buf.get(bytes);
                schedule(bytes, toServer);
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    private void schedule(byte[] bytes, boolean toServer) {
        int copies;
        synchronized (random) {
            if (random.nextDouble() < settings.loss()) {
                dropped.incrementAndGet();
                return;
            }
            copies = random.nextDouble() < settings.duplicate() ? 2 : 1;
            for (int i = 0; i < copies; i++) {
                long extra = settings.jitterMillis() > 0 ? random.nextLong(settings.jitterMillis() + 1) : 0;
                queue.add(new Datagram(bytes, toServer, System.nanoTime()
                        + TimeUnit.MILLISECONDS.toNanos(settings.delayMillis() + extra)));
            }
        }
        if (copies == 2) {
            duplicated.incrementAndGet();
        }
    }

    private void deliver() {
        while (!closed) {
            try {
                Datagram d = queue.poll(100, TimeUnit.MILLISECONDS);
                if (d == null) {
                    continue;
                }
                if (d.toServer) {
                    back.send(ByteBuffer.wrap(d.bytes), server);
                } else if (client != null) {
                    front.send(ByteBuffer.wrap(d.bytes), client);
                }
                delivered.incrementAndGet();
            } catch (InterruptedException e) {
                return;
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
            back.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private record Datagram(byte[] bytes, boolean toServer, long dueNanos) implements Delayed {
        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(dueNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed o) {
            return Long.compare(dueNanos, ((Datagram) o).dueNanos);
        }
    }
}
