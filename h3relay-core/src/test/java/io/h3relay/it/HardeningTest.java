package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.testing.Curl;
import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.TestEndpoint;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Request smuggling and malformed heads. h1 over a bare socket (both listeners): ambiguous framing,
 * bad header names and obsolete line folding are refused with 400 and the envelope, the connection
 * closes, and nothing reaches the endpoint. h2: connection-specific headers are refused.
 */
class HardeningTest {
    private static TestEndpoint endpoint;
    private static RelayHarness relay;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start();
        relay = RelayHarness.yaml(LimitsTest.CONFIG).with("LIMITS", "{}").with("EP1", endpoint.address()).start();
    }

    @AfterAll
    static void stop() {
        relay.close();
        endpoint.close();
    }

    /** Sends {@code head} (and whatever follows) and asserts 400 bad_request, close, and no upstream request. */
    private static void assertRefused(String listener, String... parts) {
        int before = endpoint.requestCount();
        try (RawHttp1 c = RawHttp1.open(relay, listener)) {
            for (String part : parts) {
                c.send(part);
                pause(); // separate TCP segments, so checks must hold across reads
            }
            RawHttp1.Response res = c.readResponse();

            Envelope.assertError(res.status(), res.body(), 400, "bad_request");
            assertThat(res.header("connection")).isEqualTo("close");
            assertThat(c.closedWithin(Duration.ofSeconds(5))).as("connection closed").isTrue();
        }
        assertThat(endpoint.requestCount()).as("requests that reached the endpoint").isEqualTo(before);
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "tls"})
    void contentLengthWithTransferEncodingIsRefused(String listener) {
        assertRefused(listener, "POST /sink HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "tls"})
    void twoDifferentContentLengthsAreRefused(String listener) {
        assertRefused(listener, "POST /sink HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n"
                + "Content-Length: 10\r\n\r\nabcd");
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "tls"})
    void invalidHeaderNameIsRefused(String listener) {
        assertRefused(listener, "GET /headers HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n");
    }

    /** RFC 9112 section 5.2: a server must reject obs-fold (or replace it); we reject. */
    @ParameterizedTest
    @ValueSource(strings = {"plain", "tls"})
    void obsoleteLineFoldingIsRefused(String listener) {
        assertRefused(listener, "GET /headers HTTP/1.1\r\nHost: localhost\r\nX-Folded: a\r\n b\r\n\r\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "tls"})
    void obsFoldWithTabSplitAcrossSegmentsIsRefused(String listener) {
        assertRefused(listener, "GET /headers HTTP/1.1\r\nHost: localhost\r\nX-Folded: a\r", "\n", "\tb\r\n\r\n");
    }

    /** RFC 9112 section 2.2: whitespace between the start line and the first field. */
    @ParameterizedTest
    @ValueSource(strings = {"plain", "tls"})
    void whitespaceBeforeFirstHeaderIsRefused(String listener) {
        assertRefused(listener, "GET /headers HTTP/1.1\r\n Host: localhost\r\n\r\n");
    }

    /**
     * Folding hidden in the second request of a keep-alive connection, after bodies that themselves contain
     * CRLF + space (which is not folding): the first requests succeed, the folded one is refused.
     */
    @ParameterizedTest
    @ValueSource(strings = {"plain", "tls"})
    void obsFoldInALaterRequestIsRefusedAndBodiesAreNotMistakenForHeads(String listener) {
        String body = "a\r\n b\r\n\r\n c";
        try (RawHttp1 c = RawHttp1.open(relay, listener)) {
            c.send("POST /sink HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
            assertThat(c.readResponse().status()).isEqualTo(200);
            c.send("POST /sink HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\nX-Trailer: t\r\n\r\n");
            assertThat(c.readResponse().status()).isEqualTo(200);

            c.send("GET /headers HTTP/1.1\r\nHost: localhost\r\nX-Folded: a\r\n b\r\n\r\n");
            RawHttp1.Response res = c.readResponse();
            Envelope.assertError(res.status(), res.body(), 400, "bad_request");
            assertThat(c.closedWithin(Duration.ofSeconds(5))).isTrue();
        }
    }

    /** Two requests in one write (pipelined), the second folded: the first is answered, then 400. */
    @Test
    void pipelinedFoldedRequestIsRefusedAfterTheFirstIsAnswered() {
        try (RawHttp1 c = RawHttp1.plain(relay)) {
            c.send("POST /sink HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc"
                    + "GET /headers HTTP/1.1\r\nHost: localhost\r\nX-Folded: a\r\n b\r\n\r\n");

            assertThat(c.readResponse().status()).isEqualTo(200);
            RawHttp1.Response res = c.readResponse();
            Envelope.assertError(res.status(), res.body(), 400, "bad_request");
            assertThat(c.closedWithin(Duration.ofSeconds(5))).isTrue();
        }
    }

    /**
     * Many requests in one write, a body among them: each is forwarded after the response before it, in
     * order, on the same connection (the next exchange starts from the downstream side once a response is
     * written, also when it ends inside the upstream read).
     */
    @Test
    void pipelinedRequestsAreAnsweredInOrder() {
        StringBuilder batch = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            if (i == 7) {
                batch.append("POST /sink HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello");
            } else {
                batch.append("GET /headers?n=").append(i).append(" HTTP/1.1\r\nHost: localhost\r\n\r\n");
            }
        }
        try (RawHttp1 c = RawHttp1.plain(relay)) {
            c.send(batch.toString());
            for (int i = 0; i < 20; i++) {
                RawHttp1.Response res = c.readResponse();
                assertThat(res.status()).as("response %d", i).isEqualTo(200);
                if (i == 7) {
                    assertThat(res.body()).contains("\"bytes\":5");
                } else {
                    assertThat(res.body()).contains("/headers?n=" + i + "\"");
                }
            }
            c.send("GET /headers?n=last HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertThat(c.readResponse().body()).contains("/headers?n=last");
        }
    }

    /** The h1 checks must not get in the way of h2c, by Upgrade or by prior knowledge. */
    @Test
    void h2cStillWorks() {
        Curl.Response upgrade = Curl.to(relay.plainUrl("/headers")).http2().execute();
        Curl.Response prior = Curl.to(relay.plainUrl("/headers")).http2PriorKnowledge().execute();

        assertThat(upgrade.status()).as(upgrade.stderr()).isEqualTo(200);
        assertThat(upgrade.httpVersion()).isEqualTo("2");
        assertThat(prior.status()).as(prior.stderr()).isEqualTo(200);
        assertThat(prior.httpVersion()).isEqualTo("2");
    }

    /** RFC 9113 section 8.2.2: connection-specific fields make an h2 request malformed. */
    @ParameterizedTest
    @ValueSource(strings = {"connection: keep-alive", "transfer-encoding: chunked", "te: gzip"})
    void h2ConnectionSpecificHeaderIsRefused(String header) {
        int before = endpoint.requestCount();
        ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(20),
                ExternalTool.require("nghttp").toString(), "-v", "-H", header, relay.tlsUrl("/headers"));

        String out = r.stdoutString();
        assertThat(out).as("nghttp output").doesNotContain(":status: 2");
        assertThat(out).containsAnyOf("RST_STREAM", "GOAWAY");
        assertThat(endpoint.requestCount()).isEqualTo(before);
    }

    private static void pause() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
