package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.testing.BodyPattern;
import io.h3relay.testing.Curl;
import io.h3relay.testing.TestEndpoint;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Listener {@code limits:} over real sockets: each limit gives the same status and JSON envelope on h1 and
 * h2 (413 body, 414 request target, 431 headers), and h1's head timeout answers 408 and closes.
 * Connection-level limits (keep-alive, max connections, max streams) live in {@link ConnectionLimitsTest}.
 */
class LimitsTest {
    static final String CONFIG = RelayHarness.LISTENERS + """
            routes:
              - name: all
                cluster: c
            clusters:
              - name: c
                endpoints: [{ address: "@EP1@" }]
            """;
    private static final String LIMITS = "{ max_request_body_size: 1KiB, max_request_line_size: 1KiB,"
            + " max_request_headers_size: 2KiB, request_headers_timeout: 500ms }";

    private static TestEndpoint endpoint;
    private static RelayHarness relay;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start();
        relay = RelayHarness.yaml(CONFIG).with("LIMITS", LIMITS).with("EP1", endpoint.address()).start();
    }

    @AfterAll
    static void stop() {
        relay.close();
        endpoint.close();
    }

    private static HttpResponse<String> send(Proto proto, HttpRequest.Builder req) throws Exception {
        return relay.client(proto).send(req.timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void declaredBodyOverLimitIs413BeforeAnyUpstreamRequest(Proto proto) throws Exception {
        int before = endpoint.requestCount();
        HttpResponse<String> res = send(proto, HttpRequest.newBuilder(relay.uri(proto, "/sink"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(BodyPattern.bytes(2048))));

        Envelope.assertError(res.statusCode(), res.body(), 413, "request_body_too_large");
        assertThat(endpoint.requestCount()).isEqualTo(before);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void bodyAtTheLimitIsForwarded(Proto proto) throws Exception {
        HttpResponse<String> res = send(proto, HttpRequest.newBuilder(relay.uri(proto, "/sink"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(BodyPattern.bytes(1024))));

        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body()).contains("\"bytes\":1024");
    }

    /**
     * No Content-Length (h1: chunked, h2: DATA frames only), so the limit trips mid-stream. The endpoint
     * (/sink) answers only after the whole body, so the proxy can still answer 413; a client may instead see
     * the connection or stream cut while it is sending. What must hold: never a 2xx.
     */
    @ParameterizedTest
    @EnumSource(Proto.class)
    void streamedBodyOverLimitIsNeverAccepted(Proto proto) throws Exception {
        HttpResponse<String> res;
        try {
            res = send(proto, HttpRequest.newBuilder(relay.uri(proto, "/sink"))
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> BodyPattern.inputStream(64 * 1024))));
        } catch (IOException cut) {
            return; // the request was cut: not accepted
        }
        Envelope.assertError(res.statusCode(), res.body(), 413, "request_body_too_large");
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "tls"})
    void chunkedBodyOverLimitOnRawH1Is413AndClose(String listener) {
        String chunk = "a".repeat(600);
        try (RawHttp1 c = RawHttp1.open(relay, listener)) {
            c.send("POST /sink HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n");
            c.send("258\r\n" + chunk + "\r\n" + "258\r\n" + chunk + "\r\n");
            RawHttp1.Response res = c.readResponse();

            Envelope.assertError(res.status(), res.body(), 413, "request_body_too_large");
            assertThat(res.header("connection")).isEqualTo("close");
            assertThat(c.closedWithin(Duration.ofSeconds(5))).isTrue();
        }
    }

    @Test
    void chunkedBodyOverLimitViaCurlIs413() {
        Curl.Response res = Curl.to(relay.plainUrl("/sink")).http1_1()
                .header("Transfer-Encoding", "chunked").body(BodyPattern.bytes(4096)).execute();

        Envelope.assertError(res.status(), res.bodyString(), 413, "request_body_too_large");
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void longRequestTargetIs414(Proto proto) throws Exception {
        HttpResponse<String> res = send(proto, HttpRequest.newBuilder(
                relay.uri(proto, "/headers?q=" + "x".repeat(1100))).GET());

        Envelope.assertError(res.statusCode(), res.body(), 414, "uri_too_long");
    }

    /** Past the h1 decoder's own bound (limit + 64 bytes): still 414 with the envelope. */
    @ParameterizedTest
    @EnumSource(Proto.class)
    void veryLongRequestTargetIs414(Proto proto) throws Exception {
        HttpResponse<String> res = send(proto, HttpRequest.newBuilder(
                relay.uri(proto, "/headers?q=" + "x".repeat(3000))).GET());

        Envelope.assertError(res.statusCode(), res.body(), 414, "uri_too_long");
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void manyHeadersSummingOverLimitAre431(Proto proto) throws Exception {
        HttpRequest.Builder req = HttpRequest.newBuilder(relay.uri(proto, "/headers")).GET();
        for (int i = 0; i < 5; i++) {
            req.header("x-big-" + i, "v".repeat(500)); // each under the limit, together over 2 KiB
        }
        HttpResponse<String> res = send(proto, req);

        Envelope.assertError(res.statusCode(), res.body(), 431, "request_headers_too_large");
    }

    /**
     * Far over the limit (past 2x, where the codecs themselves refuse the head): h1 still answers 431 with
     * the envelope; h2's codec answers a bare 431 or ends the connection (Netty's header list limit). Either
     * way, never a 2xx.
     */
    @ParameterizedTest
    @EnumSource(Proto.class)
    void headersFarOverLimitAreNeverAccepted(Proto proto) throws Exception {
        HttpRequest.Builder req = HttpRequest.newBuilder(relay.uri(proto, "/headers")).GET();
        for (int i = 0; i < 20; i++) {
            req.header("x-big-" + i, "v".repeat(500));
        }
        HttpResponse<String> res;
        try {
            res = send(proto, req);
        } catch (IOException refused) {
            // h2 and h3 codecs may refuse such a head outright (stream or connection error).
            assertThat(proto).isIn(Proto.H2, Proto.H3);
            return;
        }
        assertThat(res.statusCode()).isEqualTo(431);
        if (proto == Proto.H1) {
            Envelope.assertError(res.statusCode(), res.body(), 431, "request_headers_too_large");
        }
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void headersJustUnderLimitPass(Proto proto) throws Exception {
        HttpResponse<String> res = send(proto, HttpRequest.newBuilder(relay.uri(proto, "/headers"))
                .header("x-big", "v".repeat(1200)).GET());

        assertThat(res.statusCode()).isEqualTo(200);
    }

    /** Slowloris: a head that never completes gets 408 with the envelope once the timeout passes, then close. */
    @ParameterizedTest
    @ValueSource(strings = {"plain", "tls"})
    void partialHeadTimesOutWith408AndClose(String listener) {
        try (RawHttp1 c = RawHttp1.open(relay, listener)) {
            c.send("GET /headers HTTP/1.1\r\nHost: localhost\r\nX-Slow: ");
            RawHttp1.Response res = c.readResponse(); // waits past request_headers_timeout (500ms)

            Envelope.assertError(res.status(), res.body(), 408, "request_timeout");
            assertThat(c.closedWithin(Duration.ofSeconds(5))).isTrue();
        }
    }
}
