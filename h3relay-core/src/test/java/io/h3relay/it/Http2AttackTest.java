package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.testing.TestEndpoint;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2FrameTypes;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * HTTP/2 attack corpus over real sockets (h2c prior knowledge on the plaintext listener): floods and abuse
 * of the frame layer that cost a server memory or CPU without a request to show for it. Each vector has an
 * exact outcome (the connection cut off with its GOAWAY code, a stream reset with its code, or the streams
 * answered), a bound on what the attacker got to send before being cut off, and afterwards the proxy serves
 * a normal h2 request and a normal h1 request. Rapid reset (CVE-2023-44487) is {@link RapidResetTest}.
 */
class Http2AttackTest {
    /** send_timeout short, so a reader that stalls (zero window) is seen to be cut off within the test. */
    private static final String LIMITS = "{ send_timeout: 2s, max_request_headers_size: 16KiB }";
    private static final Http2Headers GET = new DefaultHttp2Headers().method("GET").path("/hello").scheme("http")
            .authority("localhost");

    private static TestEndpoint endpoint;
    private static RelayHarness relay;
    private static EventLoopGroup group;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start("h2-attack");
        relay = RelayHarness.singleCluster(endpoint.address(), LIMITS);
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        relay.close();
        endpoint.close();
    }

    @FunctionalInterface
    interface Attack {
        String run() throws Exception;
    }

    record Vector(String name, String expected, Attack attack) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Vector> vectors() {
        return Stream.of(
                new Vector("CONTINUATION flood, 1 KiB fragments without END_HEADERS",
                        "closed after < 4 MiB",
                        () -> continuationFlood(1024, 20_000)),
                new Vector("CONTINUATION flood, empty fragments without END_HEADERS",
                        "closed after < 4 MiB",
                        () -> continuationFlood(0, 200_000)),
                new Vector("HPACK bomb: one 4 KiB table entry referenced 12,000 times", "431, connection open",
                        Http2AttackTest::hpackBomb),
                new Vector("SETTINGS flood, client not reading", "closed", () -> controlFlood(Http2FrameTypes.SETTINGS)),
                new Vector("PING flood, client not reading", "closed", () -> controlFlood(Http2FrameTypes.PING)),
                new Vector("empty DATA frames flood", "goaway ENHANCE_YOUR_CALM, closed", Http2AttackTest::emptyDataFlood),
                new Vector("zero window: SETTINGS_INITIAL_WINDOW_SIZE 0, 64 MiB response",
                        "200 head, no data, reset within send_timeout", Http2AttackTest::zeroWindow),
                new Vector("stream-ID exhaustion: stream 2^31-1, then a lower id", "served; lower id not served",
                        Http2AttackTest::streamIdExhaustion),
                new Vector("more streams than max_concurrent_streams", "256 answered, the rest REFUSED_STREAM",
                        Http2AttackTest::tooManyStreams),
                new Vector("connection WINDOW_UPDATE overflow", "goaway FLOW_CONTROL_ERROR, closed",
                        Http2AttackTest::windowOverflow),
                new Vector("RST_STREAM on an idle stream", "goaway PROTOCOL_ERROR, closed",
                        Http2AttackTest::resetIdleStream));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("vectors")
    void vector(Vector v) throws Exception {
        long t0 = System.nanoTime();
        String outcome = v.attack().run();
        System.out.printf("Http2AttackTest: %s -> %s (%d ms)%n", v.name(), outcome,
                (System.nanoTime() - t0) / 1_000_000);
        assertServesNormally();
        assertThat(outcome).isEqualTo(v.expected());
    }

    static void assertServesNormally() throws Exception {
        assertServesNormallyOn(relay, "endpoint h2-attack");
    }

    /** A normal h2 request (Java's client over TLS) and a normal h1 request (plaintext) are served. */
    static void assertServesNormallyOn(RelayHarness relay, String body) throws Exception {
        HttpResponse<String> res = relay.client(Proto.H2).send(
                HttpRequest.newBuilder(relay.uri(Proto.H2, "/after")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body()).isEqualTo(body);
        try (RawHttp1 c = RawHttp1.plain(relay)) {
            c.send("GET /after HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertThat(c.readResponse().status()).isEqualTo(200);
        }
    }

    /**
     * Closed, and how much the attacker got into the kernel before that. The bound covers loopback socket
     * buffers (a 16 KiB send buffer here, the server's receive buffer) on top of what the codec read: Netty
     * ends a header block at 1.25 x SETTINGS_MAX_HEADER_LIST_SIZE (96 KiB here) with GOAWAY, which is lost to
     * the TCP reset when the client is still writing.
     */
    private static String closedAfter(H2Raw c, long limit) throws Exception {
        boolean closed = c.closedWithin(Duration.ofSeconds(10));
        return closed && c.sent.get() < limit ? "closed after < " + (limit >> 20) + " MiB"
                : "open=" + !closed + " sent=" + c.sent.get();
    }

    private static String closed(H2Raw c, String prefix) throws Exception {
        boolean closed = c.closedWithin(Duration.ofSeconds(10));
        String goAway = c.goAway.isDone() ? "goaway " + Http2Error.valueOf(c.goAway.getNow(0L)) : "no goaway";
        return (prefix.isEmpty() ? "" : prefix + ", ") + goAway + (closed ? ", closed" : ", open");
    }

    /** HEADERS without END_HEADERS, then CONTINUATION frames of {@code size} bytes of literal fields, forever. */
    private static String continuationFlood(int size, int frames) throws Exception {
        try (H2Raw c = H2Raw.connect(group, relay.plainPort(), true, null)) {
            byte[] head = FieldBlocks.hpack(List.of(new String[] {":method", "GET"}, new String[] {":scheme", "http"},
                    new String[] {":authority", "localhost"}, new String[] {":path", "/"}));
            c.write((w, ctx) -> c.frame(w, ctx, Http2FrameTypes.HEADERS, 1, new Http2Flags().endOfStream(true), head));
            byte[] fragment = size == 0 ? new byte[0] : literals(size);
            for (int i = 0; i < frames; i += 100) {
                boolean open = c.write((w, ctx) -> {
                    for (int k = 0; k < 100; k++) {
                        c.frame(w, ctx, Http2FrameTypes.CONTINUATION, 1, new Http2Flags(), fragment);
                    }
                });
                if (!open) {
                    break;
                }
            }
            return closedAfter(c, 4 << 20);
        }
    }

    /** Literal fields without indexing ({@code x-f: aaa...}) filling {@code size} bytes. */
    static byte[] literals(int size) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (out.size() + 104 <= size) {
            out.writeBytes(FieldBlocks.hpack(List.<String[]>of(new String[] {"x-f", "a".repeat(98)})));
        }
        return out.toByteArray();
    }

    private static String hpackBomb() throws Exception {
        try (H2Raw c = H2Raw.connect(group, relay.plainPort(), true, null)) {
            c.openLocally(1);
            ByteArrayOutputStream block = new ByteArrayOutputStream();
            block.writeBytes(FieldBlocks.hpack(List.of(new String[] {":method", "GET"}, new String[] {":scheme", "http"},
                    new String[] {":authority", "localhost"}, new String[] {":path", "/hello"})));
            // literal with incremental indexing, new name (RFC 7541 section 6.2.1): enters the dynamic table
            block.write(0x40);
            block.write(6);
            block.writeBytes("x-bomb".getBytes());
            block.write(0x7f); // value length 4000: 127 + varint(3873)
            int rest = 4000 - 127;
            while (rest >= 128) {
                block.write((rest & 0x7f) | 0x80);
                rest >>>= 7;
            }
            block.write(rest);
            block.writeBytes("a".repeat(4000).getBytes());
            for (int i = 0; i < 12_000; i++) {
                block.write(0x80 | 62); // indexed field: the newest dynamic entry, 4 KiB decoded per byte
            }
            byte[] bytes = block.toByteArray();
            c.write((w, ctx) -> c.frame(w, ctx, Http2FrameTypes.HEADERS, 1,
                    new Http2Flags().endOfHeaders(true).endOfStream(true), bytes));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> c.ended.containsKey(1) || c.resets.containsKey(1) || !c.ch.isActive());
            Integer status = c.statuses.get(1);
            String what = status != null ? String.valueOf(status) : c.resets.containsKey(1)
                    ? "reset " + Http2Error.valueOf(c.resets.get(1)) : "closed";
            boolean forwarded = endpoint.requests().stream().anyMatch(r -> r.headers().stream()
                    .anyMatch(h -> h.getKey().equalsIgnoreCase("x-bomb")));
            return what + (c.ch.isActive() ? ", connection open" : ", connection closed")
                    + (forwarded ? ", FORWARDED" : "");
        }
    }

    /** Control frames the server must answer (ACKs), from a client that reads nothing. */
    private static String controlFlood(byte type) throws Exception {
        try (H2Raw c = H2Raw.connect(group, relay.plainPort(), false, null)) {
            byte[] payload = type == Http2FrameTypes.PING ? new byte[8] : new byte[0];
            for (int i = 0; i < 2_000_000; i += 1000) {
                boolean open = c.write((w, ctx) -> {
                    for (int k = 0; k < 1000; k++) {
                        c.frame(w, ctx, type, 0, new Http2Flags(), payload);
                    }
                });
                if (!open) {
                    break;
                }
            }
            return c.closedWithin(Duration.ofSeconds(15)) ? "closed" : "open after " + c.written.get() + " bytes";
        }
    }

    private static String emptyDataFlood() throws Exception {
        try (H2Raw c = H2Raw.connect(group, relay.plainPort(), true, null)) {
            c.write((w, ctx) -> {
                c.h2.connection().local().createStream(1, false);
                w.writeHeaders(ctx, 1, new DefaultHttp2Headers().method("POST").path("/sink").scheme("http")
                        .authority("localhost"), 0, false, ctx.newPromise());
            });
            // Ten frames in one segment, then nothing: the proxy gives up after a few, and bytes still arriving
            // after it closed would make the kernel answer with a reset that can discard the GOAWAY unread.
            c.write((w, ctx) -> {
                for (int i = 0; i < 10; i++) {
                    c.frame(w, ctx, Http2FrameTypes.DATA, 1, new Http2Flags(), new byte[0]);
                }
            });
            return closed(c, "");
        }
    }

    private static String zeroWindow() throws Exception {
        try (H2Raw c = H2Raw.connect(group, relay.plainPort(), true, new Http2Settings().initialWindowSize(0))) {
            c.write((w, ctx) -> {
                try {
                    c.h2.encoder().writeHeaders(ctx, 1, new DefaultHttp2Headers().method("GET")
                            .path("/bytes?n=" + (64 << 20)).scheme("http").authority("localhost"), 0, true,
                            ctx.newPromise());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long t0 = System.nanoTime();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> c.resets.containsKey(1));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            Integer status = c.statuses.get(1);
            return (status == null ? "no head" : status + " head") + (c.dataBytes.get() == 0 ? ", no data" : ", data")
                    + (ms >= 1500 && ms < 10_000 ? ", reset within send_timeout" : ", reset after " + ms + " ms");
        }
    }

    private static String streamIdExhaustion() throws Exception {
        try (H2Raw c = H2Raw.connect(group, relay.plainPort(), true, null)) {
            int max = Integer.MAX_VALUE;
            c.openLocally(max);
            c.write((w, ctx) -> w.writeHeaders(ctx, max, GET, 0, true, ctx.newPromise()));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> c.ended.containsKey(max));
            String first = Integer.valueOf(200).equals(c.statuses.get(max)) ? "served" : "status " + c.statuses.get(max);
            c.write((w, ctx) -> c.frame(w, ctx, Http2FrameTypes.HEADERS, 3,
                    new Http2Flags().endOfHeaders(true).endOfStream(true), FieldBlocks.hpack(List.of(
                            new String[] {":method", "GET"}, new String[] {":scheme", "http"},
                            new String[] {":authority", "localhost"}, new String[] {":path", "/hello"}))));
            int before = endpoint.requestCount();
            // A PING after it: its ACK says the server has read the HEADERS on stream 3.
            c.write((w, ctx) -> w.writePing(ctx, false, 42L, ctx.newPromise()));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> c.pingAcks.get() > 0);
            // Netty ignores frames on a stream id below the highest one opened ("may have existed") rather than
            // the connection error RFC 9113 section 5.1.1 asks for; either way the request goes nowhere.
            return first + "; " + (endpoint.requestCount() == before && !c.statuses.containsKey(3)
                    ? "lower id not served" : "lower id SERVED");
        }
    }

    private static String tooManyStreams() throws Exception {
        try (H2Raw c = H2Raw.connect(group, relay.plainPort(), true, null)) {
            int n = 300;
            List<Integer> ids = new ArrayList<>();
            // This side would refuse to open more streams than the server allows: lift its own bound.
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> c.h2.connection().local().maxActiveStreams() == 256);
            c.write((w, ctx) -> {
                c.h2.connection().local().maxActiveStreams(10_000);
                for (int i = 0; i < n; i++) {
                    int id = 2 * i + 1;
                    ids.add(id);
                    c.h2.connection().local().createStream(id, false);
                    w.writeHeaders(ctx, id, new DefaultHttp2Headers().method("GET").path("/delay?ms=500")
                            .scheme("http").authority("localhost"), 0, true, ctx.newPromise());
                }
            });
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                    .until(() -> ids.stream().allMatch(id -> c.ended.containsKey(id) || c.resets.containsKey(id)));
            long answered = ids.stream().filter(id -> Integer.valueOf(200).equals(c.statuses.get(id))).count();
            long refused = ids.stream().filter(id -> Long.valueOf(Http2Error.REFUSED_STREAM.code())
                    .equals(c.resets.get(id))).count();
            return answered == 256 && refused == n - 256 ? "256 answered, the rest REFUSED_STREAM"
                    : answered + " answered, " + refused + " refused, resets " + c.resets.values();
        }
    }

    private static String windowOverflow() throws Exception {
        try (H2Raw c = H2Raw.connect(group, relay.plainPort(), true, null)) {
            byte[] inc = {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff};
            c.write((w, ctx) -> {
                c.frame(w, ctx, Http2FrameTypes.WINDOW_UPDATE, 0, new Http2Flags(), inc);
                c.frame(w, ctx, Http2FrameTypes.WINDOW_UPDATE, 0, new Http2Flags(), inc);
            });
            return closed(c, "");
        }
    }

    private static String resetIdleStream() throws Exception {
        try (H2Raw c = H2Raw.connect(group, relay.plainPort(), true, null)) {
            c.write((w, ctx) -> c.frame(w, ctx, Http2FrameTypes.RST_STREAM, 5, new Http2Flags(),
                    new byte[] {0, 0, 0, 8}));
            return closed(c, "");
        }
    }

    /** The corpus size, for the report. */
    @Test
    void corpusSize() {
        long n = vectors().count();
        System.out.println("Http2AttackTest: " + n + " h2 attack vectors (rapid reset: RapidResetTest, 1 more)");
        assertThat(n).isGreaterThanOrEqualTo(11);
    }
}
