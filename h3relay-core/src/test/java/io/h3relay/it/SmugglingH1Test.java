package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The HTTP/1.1 request-smuggling corpus over a real socket to the plaintext listener. Each vector is sent
 * as raw bytes in one write; its outcome is exact (400 with the envelope and a close, or forwarded as
 * exactly one request with the body the test expects), and the endpoint behind the proxy is a
 * {@link RecordingUpstream} that parses framing leniently and records every request head: a vector that
 * smuggles shows up there as an extra request or as a request for {@code /smuggled}. After every vector a
 * normal request on a new connection is served.
 */
class SmugglingH1Test {
    private static final String HOST = "Host: localhost\r\n";
    /** What attackers hide: a request for /smuggled. */
    private static final String HIDDEN = "GET /smuggled HTTP/1.1\r\n" + HOST + "\r\n";

    private static RecordingUpstream upstream;
    private static RelayHarness relay;

    @BeforeAll
    static void start() {
        upstream = RecordingUpstream.start();
        relay = RelayHarness.yaml(LimitsTest.CONFIG).with("LIMITS", "{}").with("EP1", upstream.address()).start();
    }

    @AfterAll
    static void stop() {
        relay.close();
        upstream.close();
    }

    enum Outcome {
        /** 400 bad_request with the envelope, Connection: close, the connection closes, nothing forwarded. */
        REFUSED,
        /**
         * A chunked body the proxy cannot parse: 400 bad_request with the envelope and a close. The head may
         * have gone upstream before the body broke (bodies stream); then that upstream connection is closed
         * mid-body, so the endpoint never completes the request nor reads anything after it.
         */
        BODY_REFUSED,
        /** Forwarded as exactly one request whose body is {@link Vector#body}; the endpoint's 200 comes back. */
        FORWARDED
    }

    record Vector(String name, String bytes, Outcome outcome, String target, String body) {
        static Vector refused(String name, String bytes) {
            return new Vector(name, bytes, Outcome.REFUSED, null, null);
        }

        static Vector forwarded(String name, String bytes, String target, String body) {
            return new Vector(name, bytes, Outcome.FORWARDED, target, body);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Vector> vectors() {
        String chunkedHello = "5\r\nhello\r\n0\r\n\r\n";
        return Stream.of(
                // CL.TE and TE.CL: both framings in one head
                Vector.refused("CL.TE", "POST /sink HTTP/1.1\r\n" + HOST + "Content-Length: 6\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nG" + HIDDEN),
                Vector.refused("TE.CL", "POST /sink HTTP/1.1\r\n" + HOST + "Transfer-Encoding: chunked\r\n"
                        + "Content-Length: 4\r\n\r\n" + Integer.toHexString(HIDDEN.length()) + "\r\n" + HIDDEN
                        + "\r\n0\r\n\r\n"),
                // TE.TE: an obfuscated Transfer-Encoding next to a Content-Length
                teWithLength("TE.TE trailing space", "Transfer-Encoding: chunked \r\n"),
                teWithLength("TE.TE xchunked", "Transfer-Encoding: xchunked\r\n"),
                teWithLength("TE.TE chunked, identity", "Transfer-Encoding: chunked, identity\r\n"),
                teWithLength("TE.TE two TE headers", "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n"),
                teWithLength("TE.TE tab before value", "Transfer-Encoding:\tchunked\r\n"),
                teWithLength("TE.TE upper case", "Transfer-Encoding: CHUNKED\r\n"),
                teWithLength("TE.TE space before colon", "Transfer-Encoding : chunked\r\n"),
                teWithLength("TE.TE obs-fold value", "Transfer-Encoding: identity\r\n chunked\r\n"),
                // Transfer-Encoding alone: the final coding must be chunked (RFC 9112 section 6.3)
                Vector.refused("TE xchunked alone", "POST /sink HTTP/1.1\r\n" + HOST
                        + "Transfer-Encoding: xchunked\r\n\r\n" + chunkedHello + HIDDEN),
                Vector.refused("TE chunked, identity alone", "POST /sink HTTP/1.1\r\n" + HOST
                        + "Transfer-Encoding: chunked, identity\r\n\r\n" + chunkedHello + HIDDEN),
                Vector.refused("TE chunked then identity headers", "POST /sink HTTP/1.1\r\n" + HOST
                        + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n" + chunkedHello + HIDDEN),
                Vector.refused("TE space before colon alone", "POST /sink HTTP/1.1\r\n" + HOST
                        + "Transfer-Encoding : chunked\r\n\r\n" + chunkedHello + HIDDEN),
                Vector.forwarded("TE chunked trailing space alone", "POST /sink HTTP/1.1\r\n" + HOST
                        + "Transfer-Encoding: chunked \r\n\r\n" + chunkedHello, "/sink", "hello"),
                Vector.forwarded("TE tab before value alone", "POST /sink HTTP/1.1\r\n" + HOST
                        + "Transfer-Encoding:\tchunked\r\n\r\n" + chunkedHello, "/sink", "hello"),
                Vector.forwarded("TE upper case alone", "POST /sink HTTP/1.1\r\n" + HOST
                        + "Transfer-Encoding: CHUNKED\r\n\r\n" + chunkedHello, "/sink", "hello"),
                // Content-Length
                Vector.refused("CL duplicate equal", "POST /sink HTTP/1.1\r\n" + HOST
                        + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"),
                Vector.refused("CL duplicate different", "POST /sink HTTP/1.1\r\n" + HOST
                        + "Content-Length: 5\r\nContent-Length: " + (5 + HIDDEN.length()) + "\r\n\r\nhello" + HIDDEN),
                Vector.refused("CL list different", "POST /sink HTTP/1.1\r\n" + HOST
                        + "Content-Length: 5, " + (5 + HIDDEN.length()) + "\r\n\r\nhello" + HIDDEN),
                clValue("CL plus sign", "+5"),
                clValue("CL minus sign", "-5"),
                clValue("CL leading garbage", "x5"),
                clValue("CL hex", "0x5"),
                clValue("CL trailing garbage", "5x"),
                clValue("CL huge", "99999999999999999999999"),
                clValue("CL empty", ""),
                // line endings and control characters
                Vector.refused("obs-fold", "GET /headers HTTP/1.1\r\n" + HOST + "X-Folded: a\r\n b\r\n\r\n"),
                Vector.refused("bare LF everywhere", "GET /x HTTP/1.1\n" + "Host: localhost\n\n"),
                Vector.refused("bare LF in field section", "GET /x HTTP/1.1\r\nHost: localhost\nX-A: b\r\n\r\n"),
                Vector.refused("bare LF before body", "POST /sink HTTP/1.1\r\n" + HOST + "Content-Length: 5\n\nhello"),
                Vector.refused("NUL in header value", "GET /x HTTP/1.1\r\n" + HOST + "X-A: a\0b\r\n\r\n"),
                Vector.refused("CR in header value", "GET /x HTTP/1.1\r\n" + HOST + "X-A: a\rb\r\n\r\n"),
                Vector.refused("CR in header value hiding a header", "GET /x HTTP/1.1\r\n" + HOST
                        + "X-A: a\rTransfer-Encoding: chunked\r\n\r\n"),
                Vector.refused("NUL in target", "GET /a\0b HTTP/1.1\r\n" + HOST + "\r\n"),
                Vector.refused("CR in target", "GET /a\rb HTTP/1.1\r\n" + HOST + "\r\n"),
                Vector.refused("NUL in header name", "GET /x HTTP/1.1\r\n" + HOST + "X-\0A: b\r\n\r\n"),
                // bytes above 0x7F (sent as ISO-8859-1: one byte per char)
                Vector.refused("byte 0xE9 in target", "GET /caf\u00e9 HTTP/1.1\r\n" + HOST + "\r\n"),
                Vector.refused("UTF-8 in target", "GET /caf\u00c3\u00a9 HTTP/1.1\r\n" + HOST + "\r\n"),
                Vector.refused("byte 0xFF in method", "G\u00ffT /x HTTP/1.1\r\n" + HOST + "\r\n"),
                Vector.refused("byte 0x85 (NEL) in target", "GET /a\u0085/smuggled HTTP/1.1\r\n" + HOST + "\r\n"),
                Vector.refused("byte 0xE9 in header name", "GET /x HTTP/1.1\r\n" + HOST + "X-\u00e9: b\r\n\r\n"),
                Vector.refused("byte 0xA0 (NBSP) before colon", "GET /x HTTP/1.1\r\n" + HOST
                        + "Transfer-Encoding\u00a0: chunked\r\nContent-Length: 5\r\n\r\nhello"),
                Vector.forwarded("obs-text in header value (RFC 9110 field-vchar)", "GET /x HTTP/1.1\r\n" + HOST
                        + "X-Obs: caf\u00e9 \u00ff\u0085\r\n\r\n", "/x", ""),
                // chunked bodies
                chunked("chunk size overflow", "fffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
                chunked("chunk size 2^63", "8000000000000000\r\nhello\r\n0\r\n\r\n"),
                chunked("chunk size leading space", " 5\r\nhello\r\n0\r\n\r\n"),
                chunked("chunk size plus sign", "+5\r\nhello\r\n0\r\n\r\n"),
                chunked("chunk size 0x prefix", "0x5\r\nhello\r\n0\r\n\r\n"),
                chunked("chunk size empty", "\r\nhello\r\n0\r\n\r\n"),
                Vector.forwarded("chunk extension", "POST /sink HTTP/1.1\r\n" + HOST
                        + "Transfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0;last\r\n\r\n", "/sink", "hello"),
                Vector.forwarded("chunk extension quoted", "POST /sink HTTP/1.1\r\n" + HOST
                        + "Transfer-Encoding: chunked\r\n\r\n5;name=\"a;b=\\\"c\\\" 0\"\r\nhello\r\n0\r\n\r\n",
                        "/sink", "hello"),
                chunked("chunk extension 64 KiB", "5;x=" + "a".repeat(64 * 1024) + "\r\nhello\r\n0\r\n\r\n"),
                chunked("chunk extension with bare LF", "5;x=y\nhello\r\n0\r\n\r\n"),
                chunked("chunk data too long", "5\r\nhelloXX\r\n0\r\n\r\n"),
                chunked("chunk terminator bare LF", "5\r\nhello\n0\r\n\r\n"),
                chunked("chunk terminator missing", "5\r\nhello0\r\n\r\n"),
                chunked("last chunk terminator bare LF", "5\r\nhello\r\n0\n\n"),
                // targets and Host
                Vector.refused("absolute-form authority disagrees with Host",
                        "GET http://evil.example/x HTTP/1.1\r\n" + HOST + "\r\n"),
                Vector.refused("Host with userinfo", "GET /x HTTP/1.1\r\nHost: user@localhost\r\n\r\n"),
                Vector.refused("Host with space", "GET /x HTTP/1.1\r\nHost: local host\r\n\r\n"),
                Vector.refused("Host two values", "GET /x HTTP/1.1\r\nHost: localhost, evil.example\r\n\r\n"),
                Vector.refused("two Host headers", "GET /x HTTP/1.1\r\n" + HOST + "Host: evil.example\r\n\r\n"),
                Vector.refused("request line double space", "GET  /x HTTP/1.1\r\n" + HOST + "\r\n"),
                Vector.refused("request line trailing space", "GET /x HTTP/1.1 \r\n" + HOST + "\r\n"),
                Vector.refused("request line leading space", " GET /x HTTP/1.1\r\n" + HOST + "\r\n"),
                Vector.refused("request line lone CR", "GET /x\rHTTP/1.1\r\n" + HOST + "\r\n"),
                Vector.refused("request line tab", "GET\t/x HTTP/1.1\r\n" + HOST + "\r\n"),
                Vector.refused("target with space", "GET /x /smuggled HTTP/1.1\r\n" + HOST + "\r\n"),
                Vector.refused("HTTP/0.9 request", "GET /x\r\n\r\n"),
                Vector.refused("HTTP/0.9 version", "GET /x HTTP/0.9\r\n" + HOST + "\r\n"),
                Vector.refused("HTTP/2.0 version", "GET /x HTTP/2.0\r\n" + HOST + "\r\n"),
                Vector.refused("HTTP/1.10 version", "GET /x HTTP/1.10\r\n" + HOST + "\r\n"),
                // a request inside a body stays body
                Vector.forwarded("GET with Content-Length body holding a request", "GET /first HTTP/1.1\r\n" + HOST
                        + "Content-Length: " + HIDDEN.length() + "\r\n\r\n" + HIDDEN, "/first", HIDDEN),
                Vector.forwarded("GET with chunked body holding a request", "GET /first HTTP/1.1\r\n" + HOST
                        + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(HIDDEN.length()) + "\r\n"
                        + HIDDEN + "\r\n0\r\n\r\n", "/first", HIDDEN));
    }

    private static Vector teWithLength(String name, String te) {
        return Vector.refused(name, "POST /sink HTTP/1.1\r\n" + HOST + "Content-Length: 5\r\n" + te + "\r\n"
                + "0\r\n\r\n" + HIDDEN);
    }

    private static Vector clValue(String name, String value) {
        return Vector.refused(name, "POST /sink HTTP/1.1\r\n" + HOST + "Content-Length: " + value + "\r\n\r\nhello"
                + HIDDEN);
    }

    private static Vector chunked(String name, String body) {
        return new Vector(name, "POST /sink HTTP/1.1\r\n" + HOST + "Transfer-Encoding: chunked\r\n\r\n" + body
                + HIDDEN, Outcome.BODY_REFUSED, null, null);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("vectors")
    void vector(Vector v) {
        int before = upstream.requestCount();
        int garbageBefore = upstream.garbage().size();
        try (RawHttp1 c = RawHttp1.plain(relay)) {
            c.send(v.bytes());
            RawHttp1.Response res = c.readResponse();
            if (v.outcome() != Outcome.FORWARDED) {
                Envelope.assertError(res.status(), res.body(), 400, "bad_request");
                assertThat(res.header("connection")).isEqualTo("close");
                assertThat(c.closedWithin(Duration.ofSeconds(5))).as("connection closed").isTrue();
            } else {
                assertThat(res.status()).as("status; body: %s", res.body()).isEqualTo(200);
                assertThat(res.body()).isEqualTo("upstream " + (before + 1) + ": " + method(v) + " " + v.target()
                        + " HTTP/1.1");
                // the connection stays usable, and its next request is the next one upstream
                c.send("GET /next HTTP/1.1\r\n" + HOST + "\r\n");
                RawHttp1.Response next = c.readResponse();
                assertThat(next.status()).isEqualTo(200);
                assertThat(next.body()).isEqualTo("upstream " + (before + 2) + ": GET /next HTTP/1.1");
            }
        }
        List<RecordingUpstream.Request> arrived = upstream.requests().subList(before, upstream.requestCount());
        assertThat(arrived).as("nothing smuggled").noneMatch(r -> r.requestLine().contains("/smuggled"));
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(upstream.inProgress()).as("half-sent requests left open upstream").isZero());
        List<String> garbage = upstream.garbage().subList(garbageBefore, upstream.garbage().size());
        if (v.outcome() == Outcome.BODY_REFUSED) {
            assertThat(garbage).as("at most the head, cut off in the body")
                    .allMatch("unframed body after POST /sink HTTP/1.1"::equals).hasSizeLessThanOrEqualTo(1);
        } else {
            assertThat(garbage).as("the endpoint parsed everything it got").isEmpty();
        }
        if (v.outcome() != Outcome.FORWARDED) {
            assertThat(arrived).as("requests that reached the endpoint").isEmpty();
        } else {
            assertThat(arrived).hasSize(2);
            assertThat(arrived.get(0).requestLine()).isEqualTo(method(v) + " " + v.target() + " HTTP/1.1");
            assertThat(arrived.get(0).body()).isEqualTo(v.body());
            assertThat(arrived.get(1).requestLine()).isEqualTo("GET /next HTTP/1.1");
        }
        assertServesNormally();
    }

    /** obs-text in a field value passes byte for byte: not decoded, not re-encoded, not split at 0x85. */
    @Test
    void obsTextInValueReachesTheEndpointByteForByte() {
        int before = upstream.requestCount();
        try (RawHttp1 c = RawHttp1.plain(relay)) {
            c.send("GET /obs HTTP/1.1\r\n" + HOST + "X-Obs: caf\u00e9 \u00ff\u0085x\r\n\r\n");
            assertThat(c.readResponse().status()).isEqualTo(200);
        }
        RecordingUpstream.Request r = upstream.requests().get(before);
        assertThat(r.requestLine()).isEqualTo("GET /obs HTTP/1.1");
        assertThat(r.header("x-obs")).isEqualTo("caf\u00e9 \u00ff\u0085x");
    }

    private static String method(Vector v) {
        return v.bytes().substring(0, v.bytes().indexOf(' '));
    }

    /** A normal request on a new connection is served, and it is the only new request upstream. */
    private static void assertServesNormally() {
        int before = upstream.requestCount();
        try (RawHttp1 c = RawHttp1.plain(relay)) {
            c.send("GET /after HTTP/1.1\r\n" + HOST + "\r\n");
            RawHttp1.Response res = c.readResponse();
            assertThat(res.status()).isEqualTo(200);
            assertThat(res.body()).isEqualTo("upstream " + (before + 1) + ": GET /after HTTP/1.1");
        }
        assertThat(upstream.requestCount()).isEqualTo(before + 1);
    }

    /** The corpus size, for the report: fails if vectors were dropped by accident. */
    @Test
    void corpusSize() {
        long n = vectors().count();
        System.out.println("SmugglingH1Test: " + n + " h1 smuggling vectors");
        assertThat(n).isGreaterThanOrEqualTo(60);
    }
}
