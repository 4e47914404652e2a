package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.testing.RawHttp3Stream;
import io.h3relay.testing.TestEndpoint;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.quic.DefaultQuicStreamFrame;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionCloseEvent;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * HTTP/3 attack corpus over real QUIC connections (Netty's QUIC client; streams written byte by byte with
 * hand-made HTTP/3 frames and QPACK field sections, {@link FieldBlocks}): field-section bombs, QPACK
 * references the proxy never allowed, unidirectional stream abuse, and requests cut into tiny STREAM
 * frames. Each vector has an exact outcome, and afterwards the proxy serves a normal h3 request (and the
 * attacking connection's other streams where it stays). Excess connections per source address:
 * {@link ClientConnectionLimitTest}.
 */
class Http3AttackTest {
    private static TestEndpoint endpoint;
    private static RelayHarness relay;
    private static RawQuicClient client;

    @BeforeAll
    static void start() throws Exception {
        endpoint = TestEndpoint.start("h3-attack");
        relay = RelayHarness.singleCluster(endpoint.address(), "{ max_request_headers_size: 16KiB }");
        client = new RawQuicClient();
    }

    @AfterAll
    static void stop() {
        client.close();
        relay.close();
        endpoint.close();
    }

    @FunctionalInterface
    interface Attack {
        String run(QuicChannel quic) throws Exception;
    }

    record Vector(String name, String expected, Attack attack) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final List<String[]> POST = List.of(new String[] {":method", "POST"},
            new String[] {":scheme", "https"}, new String[] {":authority", "localhost"}, new String[] {":path", "/sink"});
    private static final List<String[]> GET = List.of(new String[] {":method", "GET"},
            new String[] {":scheme", "https"}, new String[] {":authority", "localhost"}, new String[] {":path", "/hello"});

    static Stream<Vector> vectors() {
        return Stream.of(
                new Vector("field section of 256 KiB (over SETTINGS_MAX_FIELD_SECTION_SIZE)",
                        "connection closed", q -> fieldSectionBomb(q, 256 << 10)),
                new Vector("field section of 40 KiB (over max_request_headers_size, under the SETTINGS bound)",
                        "431, connection serves", q -> fieldSectionBomb(q, 40 << 10)),
                new Vector("QPACK section referencing the dynamic table (capacity 0: blocked-stream bomb)",
                        "connection closed", Http3AttackTest::dynamicTableReference),
                new Vector("second control stream", "connection closed",
                        q -> uniStream(q, new byte[] {0x00, 0x04, 0x00})),
                new Vector("push stream from the client", "connection closed", q -> uniStream(q, new byte[] {0x01, 0x00})),
                new Vector("100 unidirectional streams of an unknown type, 4 KiB each", "ignored, connection serves",
                        Http3AttackTest::unknownUniStreams),
                new Vector("request cut into 1-byte STREAM frames (head and a 4 KiB body)", "200, body intact",
                        Http3AttackTest::tinyStreamFrames),
                new Vector("10,000 empty DATA frames in one request", "200, connection serves",
                        Http3AttackTest::emptyDataFrames),
                new Vector("DATA frame before HEADERS", "connection closed", q -> {
                    String r = request(q, concat(FieldBlocks.h3Frame(0, "x".getBytes()),
                            FieldBlocks.h3Frame(1, FieldBlocks.qpack(GET))), true);
                    return closedOr(q, r);
                }));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("vectors")
    void vector(Vector v) throws Exception {
        QuicChannel quic = client.connect(relay.tlsPort());
        String outcome;
        long t0 = System.nanoTime();
        try {
            outcome = v.attack().run(quic);
        } finally {
            quic.close().sync();
        }
        System.out.printf("Http3AttackTest: %s -> %s (%d ms)%n", v.name(), outcome,
                (System.nanoTime() - t0) / 1_000_000);
        assertServesNormally();
        assertThat(outcome).isEqualTo(v.expected());
    }

    static void assertServesNormally() throws Exception {
        HttpResponse<String> res = relay.client(Proto.H3).send(HttpRequest.newBuilder(
                URI.create("https://localhost:" + relay.tlsPort() + "/after")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body()).isEqualTo("endpoint h3-attack");
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /**
     * Writes {@code bytes} on a new request stream (with FIN when {@code fin}); the outcome: the status (and
     * "body N" for the DATA length), "reset", or "connection closed".
     */
    private static String request(QuicChannel quic, byte[] bytes, boolean fin) throws Exception {
        RawHttp3Stream.Outcome o = RawHttp3Stream.exchange(quic, bytes, fin, Duration.ofSeconds(15));
        if (!o.answered()) {
            return o.connectionOpen() ? "reset" : "connection closed";
        }
        // The status is read from the body (the endpoint's text, /sink's JSON, or the envelope's "status"), not
        // from the QPACK-encoded head.
        String data = FieldBlocks.h3Data(o.received());
        String status = data.startsWith("endpoint ") || data.startsWith("{\"bytes\"") ? "200"
                : data.replaceAll("(?s).*\"status\":(\\d+).*", "$1");
        return status.length() == 3 ? status : "answered " + o.received().length;
    }

    /** A normal GET on a new stream of {@code quic} is answered 200. */
    private static boolean servesOn(QuicChannel quic) {
        try {
            return quic.isActive() && "200".equals(request(quic, FieldBlocks.h3Frame(1, FieldBlocks.qpack(GET)), true));
        } catch (Exception e) {
            return false;
        }
    }

    private static String fieldSectionBomb(QuicChannel quic, int size) throws Exception {
        List<String[]> fields = new ArrayList<>(GET);
        for (int i = 0; i * 1000 < size; i++) {
            fields.add(new String[] {"x-bomb-" + i, "a".repeat(990)});
        }
        String r = request(quic, FieldBlocks.h3Frame(1, FieldBlocks.qpack(fields)), true);
        // Over the SETTINGS bound Netty's codec closes the connection (H3_EXCESSIVE_LOAD); under it our 431.
        return closedOr(quic, r);
    }

    /**
     * "connection closed" when the request was not answered and the connection closes (its stream may be seen
     * reset a moment before the CONNECTION_CLOSE arrives), else the answer and whether the connection serves on.
     */
    private static String closedOr(QuicChannel quic, String r) throws InterruptedException {
        if (("reset".equals(r) || "connection closed".equals(r)) && quic.closeFuture().await(5, TimeUnit.SECONDS)) {
            return "connection closed";
        }
        return r + (servesOn(quic) ? ", connection serves" : ", connection gone");
    }

    /** Required Insert Count 1 with a dynamic-table capacity of 0: the section can never be decoded. */
    private static String dynamicTableReference(QuicChannel quic) throws Exception {
        byte[] section = concat(new byte[] {0x02, 0x00, (byte) 0x80}, FieldBlocks.qpack(GET));
        String r = request(quic, FieldBlocks.h3Frame(1, section), true);
        boolean closed = quic.closeFuture().await(5, TimeUnit.SECONDS);
        return closed ? "connection closed" : r + ", connection open";
    }

    private static String uniStream(QuicChannel quic, byte[] bytes) throws Exception {
        QuicStreamChannel s = quic.createStream(QuicStreamType.UNIDIRECTIONAL, new ChannelInboundHandlerAdapter())
                .get(5, TimeUnit.SECONDS);
        s.writeAndFlush(Unpooled.wrappedBuffer(bytes));
        boolean closed = quic.closeFuture().await(5, TimeUnit.SECONDS);
        return closed ? "connection closed" : "connection open";
    }

    private static String unknownUniStreams(QuicChannel quic) throws Exception {
        int opened = 0;
        for (int i = 0; i < 100; i++) {
            var f = quic.createStream(QuicStreamType.UNIDIRECTIONAL, new ChannelInboundHandlerAdapter());
            if (!f.await(2, TimeUnit.SECONDS) || !f.isSuccess()) {
                break; // the server's stream limit: the client may not open more
            }
            byte[] payload = new byte[4096 + 2];
            payload[0] = 0x40; // varint 0x21 + 0x1f * 7 ... a reserved type: 2-byte varint 0x0021
            payload[1] = 0x21;
            f.getNow().writeAndFlush(new DefaultQuicStreamFrame(Unpooled.wrappedBuffer(payload), true));
            opened++;
        }
        return (opened > 0 ? "ignored" : "none opened") + (servesOn(quic) ? ", connection serves" : ", connection gone");
    }

    private static String tinyStreamFrames(QuicChannel quic) throws Exception {
        byte[] body = new byte[4096];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) ('a' + i % 26);
        }
        List<String[]> fields = new ArrayList<>(List.of(new String[] {":method", "POST"},
                new String[] {":scheme", "https"}, new String[] {":authority", "localhost"},
                new String[] {":path", "/sink"}, new String[] {"content-length", "4096"}));
        byte[] all = concat(FieldBlocks.h3Frame(1, FieldBlocks.qpack(fields)), FieldBlocks.h3Frame(0, body));
        RawHttp3Stream stream = RawHttp3Stream.open(quic);
        for (int i = 0; i < all.length; i++) {
            // one flush per byte: one STREAM frame (one packet) each
            stream.write(all, i, 1, i == all.length - 1).sync();
        }
        RawHttp3Stream.Outcome o = stream.outcome().get(30, TimeUnit.SECONDS);
        String sink = o.fin() ? FieldBlocks.h3Data(o.received()) : "reset";
        String expected = "\"bytes\":4096,\"sha256\":\"" + java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(body)) + "\"";
        return sink.contains(expected) ? "200, body intact" : "got " + sink;
    }

    private static String emptyDataFrames(QuicChannel quic) throws Exception {
        List<String[]> fields = List.of(new String[] {":method", "POST"}, new String[] {":scheme", "https"},
                new String[] {":authority", "localhost"}, new String[] {":path", "/sink"});
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(FieldBlocks.h3Frame(1, FieldBlocks.qpack(fields)));
        byte[] empty = FieldBlocks.h3Frame(0, new byte[0]);
        for (int i = 0; i < 10_000; i++) {
            out.writeBytes(empty);
        }
        String r = request(quic, out.toByteArray(), true);
        return r + (servesOn(quic) ? ", connection serves" : ", connection gone");
    }

    /**
     * Client bytes on a request stream that are an HTTP/3 connection error, with the code the server's
     * CONNECTION_CLOSE must carry. The one-byte field section is what {@code Http3StreamFuzzTest} found
     * ({@code headers-one-byte-field-section-found-1}): Netty's QPACK decoder threw an
     * IndexOutOfBoundsException on it, the stream got a bare FIN and the connection stayed open.
     */
    static Stream<Arguments> connectionErrors() throws Exception {
        byte[] dataFrame = FieldBlocks.h3Frame(0, "hello".getBytes(StandardCharsets.US_ASCII));
        byte[] found = fuzzInput("headers-one-byte-field-section-found-1");
        return Stream.of(
                Arguments.of("DATA frame before HEADERS", concat(FieldBlocks.h3Frame(0, "x".getBytes()),
                        FieldBlocks.h3Frame(1, FieldBlocks.qpack(GET))), Http3ErrorCode.H3_FRAME_UNEXPECTED),
                Arguments.of("HEADERS whose field section is one byte (no Delta Base)",
                        FieldBlocks.h3Frame(1, new byte[] {0x00}), Http3ErrorCode.QPACK_DECOMPRESSION_FAILED),
                Arguments.of("HEADERS whose field section is one byte, then DATA (the fuzz finding, as found)",
                        found, Http3ErrorCode.QPACK_DECOMPRESSION_FAILED),
                Arguments.of("HEADERS of length 0, then DATA", concat(FieldBlocks.h3Frame(1, new byte[0]), dataFrame),
                        Http3ErrorCode.QPACK_DECOMPRESSION_FAILED),
                Arguments.of("a literal name's length running past the field section (fuzz finding)",
                        fuzzInput("crash-b70c1187df3ca009eb1c284e8ac37a8e6e48fe22"),
                        Http3ErrorCode.QPACK_DECOMPRESSION_FAILED),
                // RFC 9114 section 7.1: a frame cut off by the stream's end is a connection error
                Arguments.of("a DATA frame cut off by the stream's FIN (100 bytes announced, 5 sent)",
                        concat(FieldBlocks.h3Frame(1, FieldBlocks.qpack(POST)),
                                new byte[] {0x00, 0x40, 0x64}, "hello".getBytes(StandardCharsets.US_ASCII)),
                        Http3ErrorCode.H3_FRAME_ERROR),
                Arguments.of("SETTINGS on a request stream", concat(FieldBlocks.h3Frame(4, new byte[0]),
                        FieldBlocks.h3Frame(1, FieldBlocks.qpack(GET))), Http3ErrorCode.H3_FRAME_UNEXPECTED),
                Arguments.of("a reserved HTTP/2 frame type (0x6, PING) on a request stream",
                        concat(FieldBlocks.h3Frame(1, FieldBlocks.qpack(POST)), FieldBlocks.h3Frame(6, new byte[8])),
                        Http3ErrorCode.H3_FRAME_UNEXPECTED),
                Arguments.of("HEADERS after the trailers", concat(FieldBlocks.h3Frame(1, FieldBlocks.qpack(POST)),
                        dataFrame, FieldBlocks.h3Frame(1, FieldBlocks.qpack(List.<String[]>of(new String[] {"x-t", "1"}))),
                        FieldBlocks.h3Frame(1, FieldBlocks.qpack(List.<String[]>of(new String[] {"x-t", "2"})))),
                        Http3ErrorCode.H3_FRAME_UNEXPECTED),
                // a HEADERS frame whose length alone is over SETTINGS_MAX_FIELD_SECTION_SIZE: refused before its bytes
                Arguments.of("HEADERS frame announcing 1 MiB", new byte[] {0x01, (byte) 0x80, 0x10, 0x00, 0x00, 0x00},
                        Http3ErrorCode.H3_EXCESSIVE_LOAD));
    }

    /** An {@code Http3StreamFuzzTest} corpus input's stream bytes (its byte 0 is the fuzz target's write count). */
    private static byte[] fuzzInput(String name) throws java.io.IOException {
        try (var in = Http3AttackTest.class.getResourceAsStream(
                "Http3StreamFuzzTestInputs/anyRequestStreamIsAnsweredOrReset/" + name)) {
            byte[] input = in.readAllBytes();
            return java.util.Arrays.copyOfRange(input, 1, input.length);
        }
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("connectionErrors")
    void connectionError(String name, byte[] stream, Http3ErrorCode expected) throws Exception {
        QuicChannel quic = client.connect(relay.tlsPort());
        long t0 = System.nanoTime();
        QuicConnectionCloseEvent close;
        RawHttp3Stream.Outcome o;
        try {
            o = RawHttp3Stream.exchange(quic, stream, true, Duration.ofSeconds(15));
            close = RawHttp3Stream.peerClose(quic).get(10, TimeUnit.SECONDS);
        } finally {
            quic.close().sync();
        }
        System.out.printf("Http3AttackTest: %s -> connection closed, 0x%x (%d ms)%n", name, close.error(),
                (System.nanoTime() - t0) / 1_000_000);
        assertThat(o.answered()).as("the stream was answered").isFalse();
        assertThat(close.isApplicationClose()).isTrue();
        assertThat(close.error()).as("CONNECTION_CLOSE error code").isEqualTo(expected.code());
        assertServesNormally();
    }

    @Test
    void corpusSize() throws Exception {
        long n = vectors().count();
        System.out.println("Http3AttackTest: " + n + " h3 attack vectors and " + connectionErrors().count()
                + " connection errors with their codes (excess connections per source: ClientConnectionLimitTest)");
        assertThat(n).isGreaterThanOrEqualTo(9);
    }
}
