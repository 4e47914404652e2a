package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.h3relay.client.ClientTls;
import io.h3relay.client.h3.QuicClients;
import io.h3relay.testing.RawHttp3Stream;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2FrameTypes;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.quic.QuicChannel;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Downgrade smuggling: h2 (h2c prior knowledge) and h3 requests that an HTTP/1.1 endpoint would read as
 * more than one request, or with other headers than the proxy saw, if they were passed on as they came.
 * The attacker writes its own field sections ({@link FieldBlocks}: literal fields in any order, any bytes)
 * and DATA frames, so nothing on the client side cleans them up. Behind the proxy is a
 * {@link RecordingUpstream} that records every request head it parses. Each vector has an exact outcome on
 * each protocol (a 400 envelope, a stream reset with its code on h2, or forwarded as exactly one request),
 * nothing smuggled reaches the endpoint, no half-sent request stays open there, and a normal request on a
 * new connection is served afterwards.
 */
class SmugglingDowngradeTest {
    private static final String HIDDEN = "GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n";

    private static RecordingUpstream upstream;
    private static RelayHarness relay;
    private static EventLoopGroup group;
    private static Channel udp;

    @BeforeAll
    static void start() throws Exception {
        upstream = RecordingUpstream.start();
        relay = RelayHarness.yaml(LimitsTest.CONFIG).with("LIMITS", "{}").with("EP1", upstream.address()).start();
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        udp = QuicClients.bind(group, NioDatagramChannel.class,
                QuicClients.codec(ClientTls.trusting(RelayHarness.certs().caCert()).quic())).sync().channel();
    }

    @AfterAll
    static void stop() {
        udp.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        relay.close();
        upstream.close();
    }

    /** What reached the endpoint. */
    enum Upstream {
        /** No complete request; a head whose body broke off may have arrived, its connection then closed. */
        NOTHING,
        /** Exactly one request, which {@link Vector#forwarded} accepts. */
        ONE,
        /**
         * At most one request, with exactly the declared body: the head and the declared bytes may go out
         * before the excess DATA shows the stream malformed; the excess never does.
         */
        DECLARED
    }

    /**
     * @param fields the field section, {@code SCHEME} standing for the protocol's scheme
     * @param data DATA frames, the last one ending the stream (none: HEADERS ends it)
     * @param h2 the outcome on h2: {@code "400 bad_request"}, {@code "200 upstream"} or {@code "reset CODE"}
     * @param h3 the outcome on h3 (a reset's code is not visible to the test there: {@code "reset"})
     */
    record Vector(String name, List<String[]> fields, List<String> data, String h2, String h3, Upstream upstream,
                  Predicate<RecordingUpstream.Request> forwarded) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static List<String[]> fields(String method, String path, String... more) {
        List<String[]> f = new ArrayList<>();
        f.add(new String[] {":method", method});
        f.add(new String[] {":scheme", "SCHEME"});
        f.add(new String[] {":authority", "localhost"});
        f.add(new String[] {":path", path});
        for (int i = 0; i < more.length; i += 2) {
            f.add(new String[] {more[i], more[i + 1]});
        }
        return f;
    }

    private static Vector refused(String name, List<String[]> fields, List<String> data, String h2, String h3) {
        return new Vector(name, fields, data, h2, h3, Upstream.NOTHING, r -> false);
    }

    /** content-length shorter than the DATA: at most the declared bytes go upstream. */
    private static Vector overrun(String name, List<String[]> fields, List<String> data, String h2, String h3,
                                  String declaredBody) {
        return new Vector(name, fields, data, h2, h3, Upstream.DECLARED,
                r -> r.requestLine().equals("POST /x HTTP/1.1") && declaredBody.equals(r.body()));
    }

    private static Vector header(String name, String h2, String h3, String... field) {
        return refused(name, fields("GET", "/x", field), List.of(), h2, h3);
    }

    static Stream<Vector> vectors() {
        return Stream.of(
                // content-length that disagrees with the DATA sent
                overrun("content-length shorter than DATA", fields("POST", "/x", "content-length", "5"),
                        List.of("hello" + HIDDEN), "reset PROTOCOL_ERROR", "reset", "hello"),
                overrun("content-length 0, DATA holds a request", fields("POST", "/x", "content-length", "0"),
                        List.of(HIDDEN), "reset PROTOCOL_ERROR", "reset", ""),
                refused("content-length longer than DATA", fields("POST", "/x", "content-length", "100"),
                        List.of("hello"), "reset PROTOCOL_ERROR", "reset"),
                refused("content-length longer, in two DATA frames", fields("POST", "/x", "content-length", "100"),
                        List.of("hello", "world"), "reset PROTOCOL_ERROR", "reset"),
                overrun("content-length shorter, second DATA frame holds a request",
                        fields("POST", "/x", "content-length", "5"), List.of("hello", HIDDEN), "reset PROTOCOL_ERROR", "reset", "hello"),
                refused("content-length two values", fields("POST", "/x", "content-length", "5",
                        "content-length", "50"), List.of("hello"), "reset PROTOCOL_ERROR", "reset"),
                refused("content-length list", fields("POST", "/x", "content-length", "5, 50"),
                        List.of("hello"), "reset PROTOCOL_ERROR", "reset"),
                refused("content-length with sign", fields("POST", "/x", "content-length", "+5"),
                        List.of("hello"), "reset PROTOCOL_ERROR", "reset"),
                // field values and names that mean something else in HTTP/1.1
                header("CR in value", "reset PROTOCOL_ERROR", "reset", "x-a", "a\rx-injected: 1"),
                header("LF in value", "reset PROTOCOL_ERROR", "reset", "x-a", "a\nx-injected: 1"),
                header("CRLF in value", "reset PROTOCOL_ERROR", "reset", "x-a", "a\r\nx-injected: 1"),
                header("CRLF CRLF and a request in value", "reset PROTOCOL_ERROR", "reset", "x-a", "a\r\n\r\n" + HIDDEN.strip()),
                header("NUL in value", "reset PROTOCOL_ERROR", "reset", "x-a", "a\0b"),
                header("SOH (0x01) in value", "reset PROTOCOL_ERROR", "reset", "x-a", "a\u0001b"),
                header("DEL in value", "reset PROTOCOL_ERROR", "reset", "x-a", "a\u007fb"),
                header("leading space in value", "reset PROTOCOL_ERROR", "reset", "x-a", " a"),
                header("colon in name", "reset PROTOCOL_ERROR", "reset", "x-a:x-injected", "1"),
                header("space in name", "reset PROTOCOL_ERROR", "reset", "x-a x-injected", "1"),
                header("CRLF in name", "reset PROTOCOL_ERROR", "reset", "x-a\r\nx-injected", "1"),
                header("NUL in name", "reset PROTOCOL_ERROR", "reset", "x-\0a", "1"),
                header("upper-case name", "reset PROTOCOL_ERROR", "reset", "X-Upper", "1"),
                header("empty name", "reset PROTOCOL_ERROR", "reset", "", "1"),
                // connection-specific fields (RFC 9113 section 8.2.2, RFC 9114 section 4.2)
                refused("transfer-encoding chunked", fields("POST", "/x", "transfer-encoding", "chunked"),
                        List.of("5\r\nhello\r\n0\r\n\r\n" + HIDDEN), "reset PROTOCOL_ERROR", "reset"),
                header("connection", "reset PROTOCOL_ERROR", "reset", "connection", "close"),
                header("keep-alive", "reset PROTOCOL_ERROR", "reset", "keep-alive", "timeout=5"),
                header("upgrade", "reset PROTOCOL_ERROR", "reset", "upgrade", "websocket"),
                header("proxy-connection", "reset PROTOCOL_ERROR", "reset", "proxy-connection", "keep-alive"),
                header("te gzip", "reset PROTOCOL_ERROR", "reset", "te", "gzip"),
                // pseudo-headers
                refused(":path with a space", fields("GET", "/x HTTP/1.1\r\nHost: localhost\r\n\r\nGET /smuggled"),
                        List.of(), "reset PROTOCOL_ERROR", "reset"),
                refused(":path with a plain space", fields("GET", "/a b"), List.of(), "reset PROTOCOL_ERROR", "reset"),
                refused(":path without leading slash", fields("GET", "x"), List.of(), "400 bad_request", "400 bad_request"),
                refused(":path absolute-form", fields("GET", "http://evil.example/x"), List.of(), "400 bad_request", "400 bad_request"),
                // RFC 9114 section 4.3.1: not empty for https (h3relay's own h3 streams reset it, as h2 does)
                refused(":path empty", fields("GET", ""), List.of(), "reset PROTOCOL_ERROR", "reset"),
                refused(":method with a space", fields("GET /smuggled HTTP/1.1\r\n\r\nGET", "/x"), List.of(), "reset PROTOCOL_ERROR", "reset"),
                refused(":authority with userinfo", withAuthority("user@localhost"), List.of(), "400 bad_request", "400 bad_request"),
                refused(":authority with CRLF", withAuthority("localhost\r\nx-injected: 1"), List.of(), "reset PROTOCOL_ERROR", "reset"),
                // found by Http3StreamFuzzTest: the h3 stream hung (Netty's adapter threw and only logged at ERROR)
                refused(":authority with control characters", withAuthority("lo\u0001\u001dcalhost"), List.of(), "reset PROTOCOL_ERROR", "reset"),
                refused("pseudo-header after a regular one", pseudoLast(), List.of(), "reset PROTOCOL_ERROR", "reset"),
                refused("unknown pseudo-header", fields("GET", "/x", ":evil", "1"), List.of(), "reset PROTOCOL_ERROR", "reset"),
                refused("duplicate :path", fields("GET", "/x", ":path", "/smuggled"), List.of(), "reset PROTOCOL_ERROR", "reset"),
                refused("host disagrees with :authority", fields("GET", "/x", "host", "evil.example"), List.of(),
                        "reset PROTOCOL_ERROR", "reset"),
                // a legal value with a colon, and a body holding a request, go through as they are
                new Vector("colon in value", fields("GET", "/x", "x-a", "a: b"), List.of(), "200 upstream",
                        "200 upstream", Upstream.ONE, r -> "a: b".equals(r.header("x-a"))),
                new Vector("body holding a request, content-length right",
                        fields("POST", "/x", "content-length", String.valueOf(HIDDEN.length())), List.of(HIDDEN),
                        "200 upstream", "200 upstream", Upstream.ONE, r -> HIDDEN.equals(r.body())),
                new Vector("body holding a request, no content-length", fields("POST", "/x"), List.of(HIDDEN),
                        "200 upstream", "200 upstream", Upstream.ONE, r -> HIDDEN.equals(r.body())));
    }

    private static List<String[]> withAuthority(String authority) {
        List<String[]> f = fields("GET", "/x");
        f.set(2, new String[] {":authority", authority});
        return f;
    }

    private static List<String[]> pseudoLast() {
        List<String[]> f = fields("GET", "/x", "x-a", "1");
        String[] path = f.remove(3);
        f.add(path);
        return f;
    }

    static Stream<Arguments> cases() {
        return vectors().flatMap(v -> Stream.of(Arguments.of("h2", v), Arguments.of("h3", v)));
    }

    @ParameterizedTest(name = "[{index}] {0}: {1}")
    @MethodSource("cases")
    void vector(String proto, Vector v) throws Exception {
        int before = upstream.requestCount();
        int garbageBefore = upstream.garbage().size();
        String outcome = "h2".equals(proto) ? h2(v) : h3(v);

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(upstream.inProgress()).as("half-sent requests left open upstream").isZero());
        List<RecordingUpstream.Request> arrived = upstream.requests().subList(before, upstream.requestCount());
        List<String> garbage = upstream.garbage().subList(garbageBefore, upstream.garbage().size());
        assertThat(arrived).as("nothing smuggled").noneMatch(r -> r.requestLine().contains("/smuggled")
                || r.header("x-injected") != null);
        assertThat(garbage).as("at most a head cut off in its body")
                .allMatch(g -> g.startsWith("unframed body after POST /x ")).hasSizeLessThanOrEqualTo(1);
        if (v.upstream() == Upstream.NOTHING) {
            assertThat(arrived).as("requests that reached the endpoint").isEmpty();
        } else if (v.upstream() == Upstream.DECLARED) {
            assertThat(arrived).as("requests that reached the endpoint").hasSizeLessThanOrEqualTo(1)
                    .allMatch(v.forwarded());
        } else {
            assertThat(arrived).hasSize(1);
            assertThat(arrived.get(0).requestLine()).isEqualTo(v.fields().get(0)[1] + " /x HTTP/1.1");
            assertThat(arrived.get(0)).matches(v.forwarded());
            assertThat(garbage).isEmpty();
        }
        assertServesNormally();
        assertThat(outcome).as("outcome on %s", proto).isEqualTo("h2".equals(proto) ? v.h2() : v.h3());
    }

    private static void assertServesNormally() {
        int before = upstream.requestCount();
        try (RawHttp1 c = RawHttp1.plain(relay)) {
            c.send("GET /after HTTP/1.1\r\nHost: localhost\r\n\r\n");
            RawHttp1.Response res = c.readResponse();
            assertThat(res.status()).isEqualTo(200);
            assertThat(res.body()).isEqualTo("upstream " + (before + 1) + ": GET /after HTTP/1.1");
        }
    }

    /** "200 upstream" for the endpoint's answer, else status and envelope code. */
    private static String describe(int status, String body) {
        if (status == 200 && body.startsWith("upstream ")) {
            return "200 upstream";
        }
        return status + " " + Envelope.code(body);
    }

    private static List<String[]> withScheme(List<String[]> fields, String scheme) {
        return fields.stream().map(f -> ":scheme".equals(f[0]) && "SCHEME".equals(f[1])
                ? new String[] {f[0], scheme} : f).toList();
    }

    /** One request on a new h2c connection; the outcome of stream 1. */
    private static String h2(Vector v) throws Exception {
        CompletableFuture<String> outcome = new CompletableFuture<>();
        int[] status = {0};
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        Http2FrameAdapter listener = new Http2FrameAdapter() {
            @Override
            public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                                      boolean endStream) {
                if (headers.status() != null) {
                    status[0] = Integer.parseInt(headers.status().toString());
                }
                if (endStream) {
                    outcome.complete(describe(status[0], body.toString(StandardCharsets.UTF_8)));
                }
            }

            @Override
            public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int dependency,
                                      short weight, boolean exclusive, int padding, boolean endStream) {
                onHeadersRead(ctx, streamId, headers, padding, endStream);
            }

            @Override
            public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding,
                                  boolean endOfStream) {
                int n = data.readableBytes();
                byte[] bytes = new byte[n];
                data.readBytes(bytes);
                body.writeBytes(bytes);
                if (endOfStream) {
                    outcome.complete(describe(status[0], body.toString(StandardCharsets.UTF_8)));
                }
                return n + padding;
            }

            @Override
            public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
                outcome.complete("reset " + Http2Error.valueOf(errorCode));
            }

            @Override
            public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debug) {
                if (errorCode != Http2Error.NO_ERROR.code()) {
                    outcome.complete("goaway " + Http2Error.valueOf(errorCode));
                }
            }
        };
        // Stream 1 is opened behind the codec's back, so it never closes on this side: close without waiting for it.
        Http2ConnectionHandler h2 = new Http2ConnectionHandlerBuilder().server(false).frameListener(listener)
                .gracefulShutdownTimeoutMillis(0).build();
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(h2)
                .connect(new InetSocketAddress("127.0.0.1", relay.plainPort())).sync().channel();
        try {
            ch.closeFuture().addListener(f -> outcome.complete("closed"));
            ChannelHandlerContext ctx = ch.pipeline().context(h2);
            byte[] block = FieldBlocks.hpack(withScheme(v.fields(), "http"));
            ch.eventLoop().submit(() -> {
                h2.connection().local().createStream(1, false);
                h2.encoder().frameWriter().writeFrame(ctx, Http2FrameTypes.HEADERS, 1,
                        new Http2Flags().endOfHeaders(true).endOfStream(v.data().isEmpty()),
                        Unpooled.wrappedBuffer(block), ctx.newPromise());
                for (int i = 0; i < v.data().size(); i++) {
                    h2.encoder().frameWriter().writeData(ctx, 1,
                            Unpooled.copiedBuffer(v.data().get(i), StandardCharsets.ISO_8859_1), 0,
                            i == v.data().size() - 1, ctx.newPromise());
                }
                ctx.flush();
                return null;
            }).sync();
            return outcome.get(10, TimeUnit.SECONDS);
        } finally {
            ch.close().sync();
        }
    }

    /** One request on a new QUIC connection, on a bidirectional stream written in one write with FIN. */
    private static String h3(Vector v) throws Exception {
        QuicChannel quic = RawHttp3Stream.connect(udp, new InetSocketAddress("localhost", relay.tlsPort()));
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(FieldBlocks.h3Frame(1, FieldBlocks.qpack(withScheme(v.fields(), "https"))));
            for (String d : v.data()) {
                out.writeBytes(FieldBlocks.h3Frame(0, d.getBytes(StandardCharsets.ISO_8859_1)));
            }
            // Data and FIN in one write: the proxy may reset the stream before a separate FIN would go out.
            RawHttp3Stream.Outcome o = RawHttp3Stream.exchange(quic, out.toByteArray(), true, Duration.ofSeconds(10));
            String data = FieldBlocks.h3Data(o.received());
            if (!data.isEmpty() && o.fin()) {
                String status = data.startsWith("upstream ") ? "200" : data.replaceAll(
                        "(?s).*\"status\":(\\d+).*", "$1");
                return describe(Integer.parseInt(status), data);
            }
            return o.connectionOpen() ? "reset" : "connection closed";
        } finally {
            quic.close().sync();
        }
    }

    /** The corpus size, for the report. */
    @Test
    void corpusSize() {
        long n = vectors().count();
        System.out.println("SmugglingDowngradeTest: " + n + " vectors, each over h2 and h3: " + 2 * n + " cases");
        assertThat(n).isGreaterThanOrEqualTo(40);
    }
}
