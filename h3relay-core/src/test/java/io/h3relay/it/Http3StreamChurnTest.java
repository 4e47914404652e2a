package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.testing.RawHttp3Stream;
import io.h3relay.testing.TestEndpoint;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * The regression test of Http3StreamFuzzTest's finding of 2026-12-06 (docs/security.md, "h3: a complete early
 * answer, then a reset"), and the churn run that traced it.
 *
 * <p>{@link #freshConnections} (in {@code mvn verify}): the finding's two inputs (a POST answered 400 at once for
 * its {@code :authority}, whose FIN then shows fewer DATA bytes than its {@code content-length}), each as the
 * first request stream of a new connection, 20 connections: every one must get its complete response. Before the
 * fix 2 to 4 in 10 hung (no byte, no FIN, no reset for the client: h3relay sent the 400 with FIN and then a
 * RESET_STREAM, which a quiche client that reads both at once never reports).
 *
 * <p>{@link #churn} (long; only with {@code -Dh3relay.churn.enabled=true}, or through {@link #main} on the test
 * class path): many thousands of fuzz-like request streams (the seed corpus, optionally a fuzzing corpus given
 * with {@code -Dh3relay.churn.corpus=DIR}, and libFuzzer-like mutations) on one QUIC connection, as the fuzz
 * target sends them, sampling the client's bidirectional stream credit ({@code peerAllowedStreams}) and h3relay's
 * active requests, upstream requests, pool connections and pending acquisitions, with the finding's input as a
 * probe every {@code -Dh3relay.churn.every} inputs. It showed no build-up: see docs/security.md.
 *
 * <p>Diagnosis: {@code -Dh3relay.churn.qlog=DIR} writes the server's qlog of every connection to DIR, and
 * {@code -Dh3relay.rawh3.qlog=DIR} the client's ({@link RawHttp3Stream}).
 */
@Isolated
class Http3StreamChurnTest {
    private static final Path SEEDS = Path.of("src/test/resources/io/h3relay/it/Http3StreamFuzzTestInputs/anyRequestStreamIsAnsweredOrReset");
    /** The finding's two inputs, in the fuzz target's regression corpus since the fix. */
    private static final List<Path> FINDINGS = List.of(SEEDS.resolve("crash-4654cecac6a78ee618831f37c27838a38c8a746a"),
            SEEDS.resolve("crash-84e6d9a17fbe7881177e55280ae97aa82198cc86"));

    private static TestEndpoint endpoint;
    private static RelayHarness relay;
    private static RawQuicClient client;

    @BeforeAll
    static void start() throws Exception {
        endpoint = TestEndpoint.startUnrecorded("h3-churn", 0);
        String qlog = System.getProperty("h3relay.churn.qlog");
        if (qlog == null) {
            relay = RelayHarness.singleCluster(endpoint.address(), "{ max_request_headers_size: 4KiB, request_headers_timeout: 60s }");
        } else {
            relay = RelayHarness.yaml(RelayHarness.LISTENERS.replaceFirst("protocols: \\[http1, http2, http3\\]",
                            "protocols: [http1, http2, http3]\n    http3: { qlog_dir: \"" + qlog + "\" }") + """
                    routes:
                      - { name: all, match: { path_prefix: / }, cluster: c }
                    clusters:
                      - { name: c, endpoints: [ { address: "@EP@" } ] }
                    """).with("LIMITS", "{ max_request_headers_size: 4KiB, request_headers_timeout: 60s }")
                    .with("EP", endpoint.address()).start();
        }
        client = new RawQuicClient("h3-churn-client");
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (relay != null) {
            relay.close();
        }
        if (endpoint != null) {
            endpoint.close();
        }
    }

    private static List<byte[]> findings() {
        List<byte[]> out = new ArrayList<>();
        for (Path p : FINDINGS) {
            try {
                out.add(Files.readAllBytes(p));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    private static List<byte[]> files(Path... dirs) {
        List<byte[]> out = new ArrayList<>();
        for (Path d : dirs) {
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (Stream<Path> s = Files.list(d)) {
                for (Path p : s.sorted().toList()) {
                    out.add(Files.readAllBytes(p));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    /** libFuzzer-like mutations of a seed: byte changes, erasures, insertions, a cross-over; at most 117 bytes. */
    static byte[] mutate(Random r, List<byte[]> seeds) {
        byte[] b = seeds.get(r.nextInt(seeds.size())).clone();
        int n = 1 + r.nextInt(4);
        for (int i = 0; i < n; i++) {
            switch (r.nextInt(5)) {
                case 0 -> { if (b.length > 0) b[r.nextInt(b.length)] = (byte) r.nextInt(256); }
                case 1 -> { if (b.length > 1) { int at = r.nextInt(b.length); int len = 1 + r.nextInt(Math.min(8, b.length - at)); byte[] c = new byte[b.length - len]; System.arraycopy(b, 0, c, 0, at); System.arraycopy(b, at + len, c, at, b.length - at - len); b = c; } }
                case 2 -> { int at = r.nextInt(b.length + 1); byte[] c = new byte[b.length + 1]; System.arraycopy(b, 0, c, 0, at); c[at] = (byte) r.nextInt(256); System.arraycopy(b, at, c, at + 1, b.length - at); b = c; }
                case 3 -> { byte[] o = seeds.get(r.nextInt(seeds.size())); int cut = r.nextInt(b.length + 1); int from = r.nextInt(o.length + 1); byte[] c = new byte[cut + o.length - from]; System.arraycopy(b, 0, c, 0, cut); System.arraycopy(o, from, c, cut, o.length - from); b = c; }
                default -> { if (b.length > 0) b[0] = (byte) r.nextInt(4); }
            }
        }
        return b.length > 117 ? java.util.Arrays.copyOf(b, 117) : b;
    }

    private QuicChannel quic;
    private int connections;

    private QuicChannel connection() throws Exception {
        if (quic == null || !quic.isActive()) {
            quic = client.connect(relay.tlsPort());
            connections++;
        }
        return quic;
    }

    /** One input as the fuzz target sends it; returns the outcome's name, "hang" when nothing in {@code timeoutMs}. */
    private String send(byte[] input, long timeoutMs) throws Exception {
        QuicChannel q = connection();
        RawHttp3Stream s;
        try {
            s = RawHttp3Stream.open(q);
        } catch (ExecutionException e) {
            System.out.println("Http3StreamChurnTest: stream open failed: " + e.getCause());
            quic = null;
            q = connection();
            s = RawHttp3Stream.open(q);
        }
        Http3StreamFuzzTest.writeInput(s, input);
        try {
            RawHttp3Stream.Outcome o = s.outcome().get(timeoutMs, TimeUnit.MILLISECONDS);
            return o.answered() ? "response" : o.emptyFin() ? "empty" : o.connectionOpen() ? "reset" : "closed";
        } catch (TimeoutException e) {
            s.channel().close();
            return q.closeFuture().await(2, TimeUnit.SECONDS) ? "closed" : "hang";
        }
    }

    private double metric(String name) {
        return relay.server().telemetry().series(name).stream().mapToDouble(Map.Entry::getValue).sum();
    }

    private String sample() {
        return String.format("conns=%d peerBidiLeft=%d downActive=%.0f upActive=%.0f pool=%.0f pending=%.0f quicActive=%.0f",
                connections, quic == null ? -1 : quic.peerAllowedStreams(QuicStreamType.BIDIRECTIONAL),
                metric("h3relay_downstream_requests_active"), metric("h3relay_upstream_requests_active"),
                metric("h3relay_upstream_pool_connections"), metric("h3relay_upstream_pool_pending_acquisitions"),
                metric("h3relay_quic_connections_active"));
    }

    public static void main(String[] args) throws Exception {
        start();
        try {
            if (Integer.getInteger("h3relay.churn.fresh", 0) > 0) {
                new Http3StreamChurnTest().freshConnections();
            } else {
                new Http3StreamChurnTest().churn();
            }
        } finally {
            stop();
        }
        System.exit(0);
    }

    @Test
    void freshConnections() throws Exception {
        List<byte[]> probes = findings();
        String hex = System.getProperty("h3relay.churn.probeHex");
        if (hex != null) {
            probes = new ArrayList<>();
            for (String h : hex.split(",")) {
                probes.add(java.util.HexFormat.of().parseHex(h));
            }
        }
        long timeout = Long.getLong("h3relay.churn.timeoutMs", 10_000);
        int n = Integer.getInteger("h3relay.churn.fresh", 20);
        java.util.Map<String, Integer> outcomes = new java.util.TreeMap<>();
        for (int i = 1; i <= n; i++) {
            if (quic != null) {
                quic.close().sync();
            }
            quic = null;
            byte[] p = probes.get(i % probes.size());
            if (Boolean.getBoolean("h3relay.churn.warmup")) {
                // A GET first: then the finding's input is the connection's second stream.
                send(Files.readAllBytes(SEEDS.resolve("get")), timeout);
            }
            long p0 = System.nanoTime();
            String o = send(p, timeout);
            outcomes.merge(o, 1, Integer::sum);
            if (!o.equals("response") || i % 10 == 0) {
                System.out.printf("Http3StreamChurnTest: fresh %d: %s in %d ms %s | %s%n", i, o, (System.nanoTime() - p0) / 1_000_000, outcomes, sample());
            }
        }
        System.out.printf("Http3StreamChurnTest: fresh connections: %s%n", outcomes);
        // Both inputs are complete requests h3relay answers at once (400): that answer must reach the client whole
        // (a RESET_STREAM after it made the client hang: it neither got the response nor heard of the reset).
        assertThat(outcomes).as("outcomes of the finding's inputs as a new connection's first stream (%d ms each at most)",
                timeout).isEqualTo(Map.of("response", n));
    }

    @Test
    @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "h3relay.churn.enabled", matches = "true",
            disabledReason = "a long run (minutes): -Dh3relay.churn.enabled=true")
    void churn() throws Exception {
        List<byte[]> seeds = files(SEEDS);
        String extra = System.getProperty("h3relay.churn.corpus");
        if (extra != null) {
            seeds.addAll(files(Path.of(extra)));
        }
        int mutatePercent = Integer.getInteger("h3relay.churn.mutate", 75);
        List<byte[]> probes = findings();
        int total = Integer.getInteger("h3relay.churn.inputs", 2_000);
        Random r = new Random(18);
        Map<String, Integer> outcomes = new java.util.TreeMap<>();
        long t0 = System.nanoTime();
        for (int i = 1; i <= total; i++) {
            boolean mutated = r.nextInt(100) < mutatePercent;
            int pick = r.nextInt(seeds.size());
            byte[] in = mutated ? mutate(r, seeds) : seeds.get(pick);
            String o = send(in, 10_000);
            if (!mutated && o.equals("closed") && seeds.size() > 10) {
                seeds.remove(pick); // keep the connection: the inputs that end it are not what builds up
            }
            outcomes.merge(o, 1, Integer::sum);
            if (o.equals("hang")) {
                System.out.printf("Http3StreamChurnTest: input %d hung: %s | %s%n", i, java.util.HexFormat.of().formatHex(in), sample());
            }
            int every = Integer.getInteger("h3relay.churn.every", 500);
            if (i % every == 0) {
                long p0 = System.nanoTime();
                String po = send(probes.get(0), 10_000);
                assertThat(po).as("the finding's input after %d inputs", i).isIn("reset", "response");
                System.out.printf("Http3StreamChurnTest: %d inputs in %d s %s | probe %s in %d ms | %s%n", i,
                        (System.nanoTime() - t0) / 1_000_000_000L, outcomes, po, (System.nanoTime() - p0) / 1_000_000, sample());
            }
        }
        for (byte[] p : probes) {
            long p0 = System.nanoTime();
            String po = send(p, 10_000);
            System.out.printf("Http3StreamChurnTest: final probe %s in %d ms | %s%n", po, (System.nanoTime() - p0) / 1_000_000, sample());
            assertThat(po).as("the finding's input after the churn").isIn("reset", "response");
        }
    }
}
