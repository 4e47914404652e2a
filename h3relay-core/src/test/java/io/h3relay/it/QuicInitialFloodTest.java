package io.h3relay.it;

import org.junit.jupiter.api.parallel.Isolated;
import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.client.ClientTls;
import io.h3relay.client.h3.QuicClients;
import io.h3relay.testing.TestEndpoint;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.quic.QuicChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * QUIC Initial floods against the HTTP/3 listener, with stateless retry ({@code http3.retry}) on and off.
 * Every flood comes from many UDP sockets (distinct source ports: distinct paths to QUIC), none of which ever
 * completes a handshake, so none is validated. For each source the test counts the bytes it sent and the bytes
 * h3relay sent back: RFC 9000 section 8.1 allows at most 3x before the address is validated. Meanwhile and
 * afterwards a legitimate h3 client must be served.
 *
 * <p>Two kinds of Initials: crafted long-header packets (random DCIDs, random payload that does not decrypt;
 * tiny ones; unknown versions), and real ones: Netty's QUIC client connects through {@link OneWayRelay},
 * which forwards its datagrams from one socket per client and drops everything h3relay answers, so the server
 * sends its handshake flight and retransmissions to an address that never answers.
 */
@Isolated
class QuicInitialFloodTest {
    private static final Random RANDOM = new Random(18);
    private static final AtomicInteger CASE = new AtomicInteger();

    private static TestEndpoint endpoint;
    private static final Map<Boolean, RelayHarness> RELAYS = new HashMap<>();
    private static EventLoopGroup group;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start("flood");
        for (boolean retry : new boolean[] {true, false}) {
            RELAYS.put(retry, RelayHarness.yaml("""
                    admin:
                      address: 127.0.0.1:0
                    listeners:
                      - name: tls
                        address: 127.0.0.1:0
                        protocols: [http1, http2, http3]
                        tls: { certificate: "@CERT@", private_key: "@KEY@" }
                        http3: { retry: @RETRY@, idle_timeout: 5s }
                    routes:
                      - { name: all, match: { path_prefix: / }, cluster: c }
                    clusters:
                      - { name: c, endpoints: [ { address: "@EP@" } ] }
                    shutdown: { drain_timeout: 1s }
                    """).with("RETRY", retry).with("EP", endpoint.address()).start());
        }
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        RELAYS.values().forEach(RelayHarness::close);
        endpoint.close();
    }

    @FunctionalInterface
    interface Flood {
        /** Floods {@code server} from sockets of {@code udp}. */
        void run(Udp udp, InetSocketAddress server) throws Exception;
    }

    /**
     * A vector: what is sent, the most h3relay may answer (a factor of what each source sent), and how long the
     * test then counts answers: 3 s where h3relay starts handshakes (its retransmissions come after a PTO from a
     * 333 ms initial RTT), 1 s for crafted packets, which start none (an answer to those, a Retry or a version
     * negotiation, leaves at once; a handshake started by mistake would send its first flight at once too).
     */
    record Vector(String name, double maxFactor, long settleMillis, Flood flood) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Vector> vectors() {
        return List.of(
                new Vector("1,000 undecryptable Initials of 1200 bytes, random DCIDs, 200 sources", 3, 1_000,
                        (udp, server) -> crafted(udp, server, 200, 5, 1200, 1, true)),
                new Vector("1,000 Initials of 16 bytes (8-byte DCID, nothing else), 200 sources", 0, 1_000,
                        (udp, server) -> crafted(udp, server, 200, 5, 16, 1, false)),
                new Vector("1,000 Initials of 600 bytes (under the 1200-byte minimum), 200 sources", 0, 1_000,
                        (udp, server) -> crafted(udp, server, 200, 5, 600, 1, true)),
                new Vector("1,000 long headers of an unknown version, 1200 bytes, 200 sources", 3, 1_000,
                        (udp, server) -> crafted(udp, server, 200, 5, 1200, 0x1a2a3a4a, true)),
                new Vector("1,000 long headers of an unknown version, 16 bytes, 200 sources", 0, 1_000,
                        (udp, server) -> crafted(udp, server, 200, 5, 16, 0x1a2a3a4a, false)),
                new Vector("100 real ClientHello Initials, each sent once, answers never read", 3, 3_000,
                        (udp, server) -> realClients(udp, server, 100, true)),
                new Vector("50 real clients retransmitting their Initials, answers never read", 3, 3_000,
                        (udp, server) -> realClients(udp, server, 50, false)));
    }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (boolean retry : new boolean[] {true, false}) {
            for (Vector v : vectors()) {
                all.add(Arguments.of(retry ? "retry on" : "retry off", v));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "[{index}] {0}: {1}")
    @MethodSource("cases")
    void flood(String mode, Vector v) throws Exception {
        RelayHarness relay = RELAYS.get(mode.equals("retry on"));
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", relay.tlsPort());
        Legit legit = new Legit(relay);
        legit.start();
        long t0 = System.nanoTime();
        // Each case floods from an address of its own (127.18.0.N): no source port of an earlier case, to which
        // h3relay may still be sending, is reused.
        String from = "127.18.0." + CASE.incrementAndGet();
        try (Udp udp = new Udp(from); ProxyLog log = ProxyLog.install()) {
            v.flood().run(udp, server);
            Thread.sleep(v.settleMillis()); // answers and retransmissions still on their way (see Vector)
            legit.stop();
            Udp.Totals t = udp.totals();
            System.out.printf("QuicInitialFloodTest: %s: %s -> %d sources, %d B sent, %d B back (%d datagrams),"
                            + " worst source %.2fx (datagrams, bytes@ms: %s), legit requests %d ok / %d failed (%d ms)%n",
                    mode, v.name(), t.sources(), t.sent(), t.received(), t.datagramsReceived(), t.worstFactor(),
                    String.join(" ", t.worstTrace().subList(0, Math.min(20, t.worstTrace().size()))),
                    legit.ok.get(), legit.failed.get(), (System.nanoTime() - t0) / 1_000_000);
            assertThat(t.sent()).as("bytes flooded").isPositive();
            // Nothing logged per bad packet (before QuicConnectionErrors: a stack trace per undecryptable Initial).
            assertThat(log.lines(5)).as("h3relay's WARN/ERROR lines during the flood").isEmpty();
            for (Udp.Source s : udp.sources()) {
                assertThat((double) s.received.get())
                        .as("bytes h3relay sent to %s, which sent %d", s.address, s.sent.get())
                        .isLessThanOrEqualTo(v.maxFactor() * s.sent.get());
            }
        } finally {
            legit.stop();
        }
        assertThat(legit.failed.get()).as("legitimate requests failed during the flood").isZero();
        assertThat(legit.ok.get()).as("legitimate requests served during the flood").isPositive();
        assertServes(relay);
    }

    private static void assertServes(RelayHarness relay) throws Exception {
        HttpResponse<String> res = relay.client(Proto.H3).send(HttpRequest.newBuilder(
                URI.create("https://localhost:" + relay.tlsPort() + "/after")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body()).isEqualTo("endpoint flood");
    }

    /**
     * {@code sources} sockets send {@code perSource} long-header packets each: {@code size} bytes, QUIC
     * {@code version}, type Initial, a random 8-20 byte DCID and 0-20 byte SCID, no token; with {@code payload}
     * a length field and random bytes up to {@code size} (which do not decrypt), without it the header only.
     */
    static void crafted(Udp udp, InetSocketAddress server, int sources, int perSource, int size, int version,
                        boolean payload) throws IOException {
        for (int i = 0; i < sources; i++) {
            Udp.Source s = udp.open();
            for (int p = 0; p < perSource; p++) {
                ByteBuffer b = ByteBuffer.allocate(Math.max(size, 64));
                b.put((byte) (0xC0 | RANDOM.nextInt(4))); // long header, fixed bit, type Initial (v1), pn length
                b.putInt(version);
                int dcid = payload ? 8 + RANDOM.nextInt(13) : 8;
                b.put((byte) dcid).put(random(dcid));
                int scid = payload ? RANDOM.nextInt(21) : 0;
                b.put((byte) scid).put(random(scid));
                b.put((byte) 0); // token length
                if (payload) {
                    int rest = size - b.position() - 2;
                    b.putShort((short) (0x4000 | rest)); // 2-byte varint length
                    b.put(random(rest));
                }
                b.flip();
                if (!payload) {
                    b.limit(Math.min(b.limit(), size));
                }
                udp.send(s, b, server);
            }
        }
    }

    /**
     * {@code count} real QUIC clients (Netty's, a ClientHello in a padded Initial), each on its own UDP socket,
     * connect through a {@link OneWayRelay}: with {@code once} only each client's first datagram is forwarded,
     * otherwise all of them (the client retransmits while it hears nothing).
     */
    static void realClients(Udp udp, InetSocketAddress server, int count, boolean once) throws Exception {
        OneWayRelay relay = new OneWayRelay(udp, server, once);
        List<Channel> sockets = new ArrayList<>();
        List<QuicChannel> quics = java.util.Collections.synchronizedList(new ArrayList<>());
        var tls = ClientTls.trusting(RelayHarness.certs().caCert()).quic();
        try {
            for (int i = 0; i < count; i++) {
                Channel socket = QuicClients.bind(group, NioDatagramChannel.class, QuicClients.codec(tls)).sync().channel();
                sockets.add(socket);
                QuicChannel.newBootstrap(socket).handler(new Http3ClientConnectionHandler())
                        .remoteAddress(relay.front()).connect().addListener(f -> {
                            if (f.isSuccess()) {
                                quics.add((QuicChannel) f.getNow());
                            }
                        });
            }
            // Until every client's first Initial went through (or a bound, under load).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (udp.sources().size() < count && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(udp.sources()).as("clients whose Initial reached h3relay").hasSize(count);
            if (!once) {
                Thread.sleep(2_000); // the clients' retransmissions
            }
        } finally {
            for (Channel s : sockets) {
                s.close();
            }
            assertThat(quics).as("handshakes completed (the relay never delivers an answer)").isEmpty();
        }
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** A legitimate h3 client asking, one request after the other, until stopped. */
    static final class Legit {
        final AtomicInteger ok = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        private final RelayHarness relay;
        private volatile boolean running = true;
        private Thread thread;

        Legit(RelayHarness relay) {
            this.relay = relay;
        }

        void start() {
            thread = Thread.ofPlatform().name("legit").start(() -> {
                while (running) {
                    try {
                        HttpResponse<String> res = relay.client(Proto.H3).send(HttpRequest.newBuilder(
                                        URI.create("https://localhost:" + relay.tlsPort() + "/legit"))
                                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                        (res.statusCode() == 200 ? ok : failed).incrementAndGet();
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception e) {
                        failed.incrementAndGet();
                    }
                }
            });
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join(15_000);
        }
    }

    /**
     * UDP sockets on one loopback address with one selector thread reading them: per socket, the bytes sent from it and
     * the bytes it received. Datagrams received are counted and dropped, except on a socket with a
     * {@code forward} action (the relay's front).
     */
    static final class Udp implements AutoCloseable {
        record Totals(int sources, long sent, long received, long datagramsReceived, double worstFactor,
                      List<String> worstTrace) {
        }

        static final class Source {
            final DatagramChannel channel;
            final SocketAddress address;
            final AtomicLong sent = new AtomicLong();
            final AtomicLong received = new AtomicLong();
            final AtomicLong datagrams = new AtomicLong();
            /** When (ms after its first send) and how large each datagram to and from it was, for the report. */
            final List<String> trace = java.util.Collections.synchronizedList(new ArrayList<>());
            volatile long firstSend;
            final java.util.function.BiConsumer<SocketAddress, ByteBuffer> forward;

            Source(DatagramChannel channel, java.util.function.BiConsumer<SocketAddress, ByteBuffer> forward)
                    throws IOException {
                this.channel = channel;
                this.address = channel.getLocalAddress();
                this.forward = forward;
            }
        }

        private final Selector selector = Selector.open();
        private final String host;
        private final List<Source> sources = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final ConcurrentLinkedQueue<Source> pending = new ConcurrentLinkedQueue<>();
        private final Thread reader;
        private volatile boolean running = true;

        Udp(String host) throws IOException {
            this.host = host;
            reader = Thread.ofPlatform().name("flood-reader").start(this::read);
        }

        /** A counted source socket. */
        Source open() throws IOException {
            Source s = openSocket(null);
            sources.add(s);
            return s;
        }

        /** A socket whose datagrams go to {@code forward} (not a counted source). */
        Source openSocket(java.util.function.BiConsumer<SocketAddress, ByteBuffer> forward) throws IOException {
            DatagramChannel ch = DatagramChannel.open();
            ch.bind(new InetSocketAddress(host, 0));
            ch.configureBlocking(false);
            Source s = new Source(ch, forward);
            pending.add(s);
            selector.wakeup();
            return s;
        }

        void send(Source s, ByteBuffer b, SocketAddress to) throws IOException {
            if (s.firstSend == 0) {
                s.firstSend = System.nanoTime();
            }
            int n = s.channel.send(b, to);
            s.sent.addAndGet(n);
            s.trace.add("out " + n + "@" + (System.nanoTime() - s.firstSend) / 1_000_000);
        }

        List<Source> sources() {
            return sources;
        }

        Totals totals() {
            long sent = 0;
            long received = 0;
            long datagrams = 0;
            double worst = 0;
            List<String> worstTrace = List.of();
            for (Source s : sources) {
                sent += s.sent.get();
                received += s.received.get();
                datagrams += s.datagrams.get();
                if (s.sent.get() > 0) {
                    double f = (double) s.received.get() / s.sent.get();
                    if (f > worst || worstTrace.isEmpty()) {
                        worst = f;
                        worstTrace = List.copyOf(s.trace);
                    }
                }
            }
            return new Totals(sources.size(), sent, received, datagrams, worst, worstTrace);
        }

        private void read() {
            ByteBuffer buf = ByteBuffer.allocate(65536);
            try {
                while (running) {
                    for (Source s; (s = pending.poll()) != null; ) {
                        s.channel.register(selector, SelectionKey.OP_READ, s);
                    }
                    selector.select(20);
                    for (SelectionKey k : selector.selectedKeys()) {
                        Source s = (Source) k.attachment();
                        for (SocketAddress from; (from = s.channel.receive(buf.clear())) != null; ) {
                            buf.flip();
                            if (s.forward != null) {
                                s.forward.accept(from, buf);
                            } else {
                                s.received.addAndGet(buf.remaining());
                                s.datagrams.incrementAndGet();
                                s.trace.add("in " + buf.remaining() + "@" + (System.nanoTime() - s.firstSend) / 1_000_000);
                            }
                        }
                    }
                    selector.selectedKeys().clear();
                }
            } catch (IOException e) {
                if (running) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }

        @Override
        public void close() throws IOException {
            running = false;
            selector.wakeup();
            try {
                reader.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (Source s : sources) {
                s.channel.close();
            }
            selector.close();
        }
    }

    /**
     * Between QUIC clients and h3relay: what a client sends to the front socket goes to h3relay from a source
     * socket of the client's own (only its first datagram when {@code once}); what h3relay answers is counted
     * there and dropped, so no client ever hears back.
     */
    static final class OneWayRelay {
        private final Udp.Source front;
        private final Map<SocketAddress, Udp.Source> perClient = new HashMap<>();

        OneWayRelay(Udp udp, InetSocketAddress server, boolean once) throws IOException {
            front = udp.openSocket((client, datagram) -> {
                try {
                    Udp.Source s = perClient.get(client);
                    if (s == null) {
                        s = udp.open();
                        perClient.put(client, s);
                    } else if (once) {
                        return;
                    }
                    udp.send(s, datagram, server);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }

        InetSocketAddress front() throws IOException {
            return (InetSocketAddress) front.channel.getLocalAddress();
        }
    }
}
