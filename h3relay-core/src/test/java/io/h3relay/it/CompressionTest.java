package io.h3relay.it;

import io.h3relay.testing.Curl;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code policies.compression} over h1, h2 and h3: each encoding negotiated and decoded by decoders we did
 * not write (Python's zlib/brotli/zstandard, curl's --compressed), q-values, what is never compressed, and a
 * 100 MiB body that streams through the encoder with bounded memory.
 */
@org.junit.jupiter.api.parallel.Isolated("measures the JVM's direct memory")
class CompressionTest {
    static PolicyUpstream upstream;
    static RelayHarness relay;

    @BeforeAll
    static void start() throws Exception {
        upstream = new PolicyUpstream();
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - name: big
                    match: { path_prefix: /big }
                    cluster: c
                    policies:
                      compression: { encodings: [gzip], levels: { gzip: 1 } }
                  - name: all
                    match: { path_prefix: / }
                    cluster: c
                    policies:
                      compression:
                        encodings: [zstd, br, gzip]
                        levels: { gzip: 6, br: 5, zstd: 3 }
                        content_types: [text/*, application/json]
                        min_size: 1KiB
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                """).with("LIMITS", "{}").with("EP", upstream.address()).start();
    }

    @AfterAll
    static void stop() {
        relay.close();
        upstream.close();
    }

    static Stream<Arguments> protocolsAndEncodings() {
        List<Arguments> out = new ArrayList<>();
        for (Proto p : Proto.values()) {
            for (String e : List.of("gzip", "br", "zstd")) {
                out.add(Arguments.of(p, e));
            }
        }
        return out.stream();
    }

    private static HttpResponse<byte[]> get(Proto proto, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(relay.uri(proto, path)).timeout(Duration.ofSeconds(30));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return relay.client(proto).send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static HttpResponse<byte[]> send(Proto proto, HttpRequest request) throws Exception {
        return relay.client(proto).send(request, HttpResponse.BodyHandlers.ofByteArray());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("protocolsAndEncodings")
    void eachEncodingIsNegotiatedAndPythonDecodesIt(Proto proto, String encoding) throws Exception {
        int n = 300_000;
        HttpResponse<byte[]> res = get(proto, "/gen?n=" + n + "&seed=3", "accept-encoding", encoding);

        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("content-encoding")).hasValue(encoding);
        assertThat(res.headers().allValues("vary")).anySatisfy(v -> assertThat(v).containsIgnoringCase("accept-encoding"));
        assertThat(res.headers().firstValue("content-length")).isEmpty();
        assertThat(res.body().length).isLessThan(n / 2);
        assertThat(PythonDecode.lengthAndSha256(encoding, res.body()))
                .isEqualTo(PythonDecode.expected(PolicyUpstream.text(n, 3)));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Proto.class)
    void aChunkedBodyOfUnknownLengthIsCompressedToo(Proto proto) throws Exception {
        int n = 100_000;
        HttpResponse<byte[]> res = get(proto, "/gen?n=" + n + "&seed=4&chunked=1&type=application/json",
                "accept-encoding", "gzip");
        assertThat(res.headers().firstValue("content-encoding")).hasValue("gzip");
        assertThat(PythonDecode.lengthAndSha256("gzip", res.body()))
                .isEqualTo(PythonDecode.expected(PolicyUpstream.text(n, 4)));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"h1", "h2", "h2c"})
    void curlCompressedDecodesWhatItNegotiated(String mode) {
        int n = 200_000;
        Curl c = switch (mode) {
            case "h1" -> Curl.to(relay.tlsUrl("/gen?n=" + n + "&seed=5")).http1_1().cacert(RelayHarness.certs().caCertPath());
            case "h2" -> Curl.to(relay.tlsUrl("/gen?n=" + n + "&seed=5")).http2().cacert(RelayHarness.certs().caCertPath());
            default -> Curl.to(relay.plainUrl("/gen?n=" + n + "&seed=5")).http2PriorKnowledge();
        };
        Curl.Response res = c.arg("--compressed").execute();

        assertThat(res.exitCode()).as(res.stderr()).isZero();
        // curl 7.88 offers "deflate, gzip, br, zstd"; zstd is configured first
        assertThat(res.header("content-encoding")).hasValue("zstd");
        assertThat(res.body()).isEqualTo(PolicyUpstream.text(n, 5));

        for (String enc : List.of("gzip", "br")) {
            Curl.Response one = Curl.to(relay.plainUrl("/gen?n=" + n + "&seed=5")).http1_1()
                    .header("accept-encoding", enc).arg("--compressed").execute();
            assertThat(one.header("content-encoding")).hasValue(enc);
            assertThat(one.body()).isEqualTo(PolicyUpstream.text(n, 5));
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Proto.class)
    void qValuesChooseTheEncoding(Proto proto) throws Exception {
        String path = "/gen?n=5000";
        assertThat(get(proto, path, "accept-encoding", "gzip;q=0.5, br;q=0.8").headers()
                .firstValue("content-encoding")).hasValue("br");
        assertThat(get(proto, path, "accept-encoding", "*;q=0.1, zstd;q=0").headers()
                .firstValue("content-encoding")).hasValue("br");
        assertThat(get(proto, path, "accept-encoding", "gzip, br, zstd").headers()
                .firstValue("content-encoding")).hasValue("zstd");
        HttpResponse<byte[]> identity = get(proto, path, "accept-encoding", "identity;q=0, gzip;q=0");
        assertThat(identity.headers().firstValue("content-encoding")).isEmpty();
        assertThat(identity.body()).isEqualTo(PolicyUpstream.text(5000, 1));
        assertThat(identity.headers().allValues("vary")).anySatisfy(v -> assertThat(v).containsIgnoringCase("accept-encoding"));
        HttpResponse<byte[]> none = get(proto, path);
        assertThat(none.headers().firstValue("content-encoding")).isEmpty();
        assertThat(none.body()).isEqualTo(PolicyUpstream.text(5000, 1));
    }

    static Stream<Arguments> neverCompressed() {
        List<Arguments> out = new ArrayList<>();
        for (Proto p : Proto.values()) {
            for (String c : List.of("sse", "grpc", "small", "image", "no-transform", "range", "head", "204",
                    "304", "already-encoded")) {
                out.add(Arguments.of(p, c));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("neverCompressed")
    void neverCompressed(Proto proto, String kind) throws Exception {
        String base = "/gen?n=20000&seed=6";
        HttpRequest.Builder b = HttpRequest.newBuilder(relay.uri(proto, switch (kind) {
            case "sse" -> base + "&type=text/event-stream";
            case "grpc" -> base + "&type=application/grpc";
            case "small" -> "/gen?n=1000&seed=6";
            case "image" -> base + "&type=image/png";
            case "no-transform" -> base + "&cc=no-transform";
            case "204" -> base + "&status=204";
            case "304" -> base + "&etag=%22e1%22";
            case "already-encoded" -> base + "&ce=gzip";
            default -> base;
        })).timeout(Duration.ofSeconds(30)).header("accept-encoding", "gzip, br, zstd");
        if (kind.equals("range")) {
            b.header("range", "bytes=0-9");
        }
        if (kind.equals("head")) {
            b.method("HEAD", HttpRequest.BodyPublishers.noBody());
        }
        if (kind.equals("304")) {
            b.header("if-none-match", "\"e1\"");
        }
        HttpResponse<byte[]> res = send(proto, b.build());

        switch (kind) {
            case "range" -> {
                assertThat(res.statusCode()).isEqualTo(206);
                assertThat(res.body()).isEqualTo(java.util.Arrays.copyOf(PolicyUpstream.text(20000, 6), 10));
            }
            case "head" -> {
                assertThat(res.statusCode()).isEqualTo(200);
                assertThat(res.body()).isEmpty();
            }
            case "204" -> assertThat(res.statusCode()).isEqualTo(204);
            case "304" -> {
                assertThat(res.statusCode()).isEqualTo(304);
                assertThat(res.body()).isEmpty();
            }
            case "small" -> assertThat(res.body()).isEqualTo(PolicyUpstream.text(1000, 6));
            default -> assertThat(res.body()).isEqualTo(PolicyUpstream.text(20000, 6));
        }
        if (kind.equals("already-encoded")) {
            assertThat(res.headers().allValues("content-encoding")).containsExactly("gzip"); // the endpoint's, untouched
        } else {
            assertThat(res.headers().firstValue("content-encoding")).isEmpty();
        }
    }

    /**
     * 100 MiB of text through gzip level 1. The endpoint holds its last 64 KiB until the client has decoded
     * everything before them: only a proxy that streams part by part gets there (one that buffered the body,
     * in or out of the encoder, would wait for the end forever). Meanwhile Netty's pooled direct memory,
     * where every part lives, stays far below the body's size.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Proto.class)
    void aHundredMebibyteBodyStreamsWithBoundedMemory(Proto proto) throws Exception {
        long n = 100L << 20;
        upstream.lastChunk = new java.util.concurrent.CountDownLatch(1);
        AtomicBoolean sampling = new AtomicBoolean(true);
        long[] before = directInUse();
        long[] max = before.clone();
        Thread sampler = Thread.ofPlatform().daemon().start(() -> {
            while (sampling.get()) {
                long[] now = directInUse();
                synchronized (max) {
                    for (int i = 0; i < max.length; i++) {
                        max[i] = Math.max(max[i], now[i]);
                    }
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        long heapBefore = liveHeap();
        long heapWhileHeld;
        try {
            HttpResponse<InputStream> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/big?n=" + n))
                    .header("accept-encoding", "gzip").timeout(Duration.ofSeconds(120)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(res.headers().firstValue("content-encoding")).hasValue("gzip");
            AtomicLong decoded = new AtomicLong();
            CompletableFuture<Long> reader = CompletableFuture.supplyAsync(() -> {
                byte[] buf = new byte[64 * 1024];
                try (InputStream in = new GZIPInputStream(res.body(), 64 * 1024)) {
                    int r;
                    while ((r = in.read(buf)) >= 0) {
                        decoded.addAndGet(r);
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return decoded.get();
            });
            await().atMost(Duration.ofSeconds(90)).until(() -> decoded.get() >= n - 64 * 1024 || reader.isDone());
            assertThat(decoded.get()).as("decoded before the endpoint sent its last chunk").isEqualTo(n - 64 * 1024);
            // Everything in flight is alive right now (the exchange waits for the last chunk): a body kept on
            // the heap anywhere (input parts, encoded output) would survive this collection.
            heapWhileHeld = liveHeap();
            upstream.releaseLast();
            assertThat(reader.get(60, TimeUnit.SECONDS)).isEqualTo(n);
        } finally {
            upstream.releaseLast();
            sampling.set(false);
            sampler.join();
        }
        System.out.printf("%s: live heap %d -> %d while held%n", proto, heapBefore, heapWhileHeld);
        assertThat(heapWhileHeld - heapBefore).as("live heap growth while 100 MiB streamed (%d -> %d)", heapBefore,
                heapWhileHeld).isLessThan(16L << 20);
        synchronized (max) {
            assertThat(max[0] - before[0]).as("pooled direct memory growth").isLessThan(48L << 20);
            assertThat(max[1] - before[1]).as("default allocator's direct memory growth").isLessThan(48L << 20);
            assertThat(max[2] - before[2]).as("Netty's direct memory growth").isLessThan(48L << 20);
        }
    }

    /** Heap in use after a full collection (System.gc() is a full, stop-the-world collection with G1 here). */
    private static long liveHeap() {
        java.lang.management.MemoryMXBean m = java.lang.management.ManagementFactory.getMemoryMXBean();
        System.gc();
        System.gc();
        return m.getHeapMemoryUsage().getUsed();
    }

    /** Direct memory in use: the pooled allocator's, the default allocator's, Netty's own count (or 0). */
    private static long[] directInUse() {
        long pooled = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
        long dflt = io.netty.buffer.ByteBufAllocator.DEFAULT instanceof io.netty.buffer.ByteBufAllocatorMetricProvider p
                ? p.metric().usedDirectMemory() : 0;
        return new long[] {pooled, dflt, Math.max(0, io.netty.util.internal.PlatformDependent.usedDirectMemory())};
    }

    @Test
    void configErrorsAreReportedWithTheirLine() {
        String yaml = """
                listeners:
                  - name: l
                    address: 127.0.0.1:0
                    policies:
                      compression:
                        encodings: [gzip, deflate, gzip]
                        levels: { gzip: 10, lz4: 1 }
                        content_types: [text, "application/*+json"]
                        min_size: lots
                """;
        var e = org.assertj.core.api.Assertions.catchThrowable(() -> io.h3relay.config.ConfigLoader.parse(yaml, null, java.util.Map.of()));
        assertThat(e).hasMessageContaining("line 6: listeners[0].policies.compression.encodings[1]: \"deflate\"")
                .hasMessageContaining("line 6: listeners[0].policies.compression.encodings[2]: \"gzip\" (expected: each encoding once)")
                .hasMessageContaining("line 7: listeners[0].policies.compression.levels.gzip: \"10\"")
                .hasMessageContaining("listeners[0].policies.compression.levels.lz4: unknown key")
                .hasMessageContaining("line 8: listeners[0].policies.compression.content_types[0]: \"text\"")
                .hasMessageContaining("line 9: listeners[0].policies.compression.min_size: \"lots\"");
    }
}
