package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.h3relay.testing.BodyPattern;
import io.h3relay.testing.Curl;
import io.h3relay.testing.RecordedRequest;
import io.h3relay.testing.TestEndpoint;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Errors the proxy answers itself, the same on h1 and h2: upstream failures (connect, timeout, reset) as
 * 502/504 with the envelope, routing failures (404, 405 with Allow), and an endpoint that dies mid-body,
 * which must reach the client as a broken response, never as a complete one.
 */
class ErrorsTest {
    private static final String CONFIG = RelayHarness.LISTENERS + """
            routes:
              - name: slow
                match: { path: /delay }
                cluster: good
                timeout: 300ms
              - name: down
                match: { path_prefix: /down/ }
                cluster: down
              - name: get-only
                match: { path: /get-only, methods: [GET] }
                cluster: good
              - name: good
                match: { path_prefix: /ep/ }
                cluster: good
                rewrite: { strip_prefix: /ep }
            clusters:
              - name: good
                endpoints: [{ address: "@EP1@" }]
              - name: down
                endpoints: [{ address: "@DOWN@" }]
            """;

    private static TestEndpoint endpoint;
    private static RelayHarness relay;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start();
        String closedPort;
        try (TestEndpoint gone = TestEndpoint.start()) {
            closedPort = gone.address();
        }
        relay = RelayHarness.yaml(CONFIG).with("LIMITS", "{}").with("EP1", endpoint.address())
                .with("DOWN", closedPort).start();
    }

    @AfterAll
    static void stop() {
        relay.close();
        endpoint.close();
    }

    private static HttpResponse<String> get(Proto proto, String path) throws Exception {
        return relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void endpointNotListeningIs502ConnectFailed(Proto proto) throws Exception {
        HttpResponse<String> res = get(proto, "/down/x");

        Envelope.assertError(res.statusCode(), res.body(), 502, "upstream_connect_failed");
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void routeTimeoutIs504(Proto proto) throws Exception {
        HttpResponse<String> res = get(proto, "/delay?ms=2000");

        Envelope.assertError(res.statusCode(), res.body(), 504, "upstream_timeout");
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void endpointResetBeforeResponseIs502Reset(Proto proto) throws Exception {
        HttpResponse<String> res = get(proto, "/ep/reset");

        Envelope.assertError(res.statusCode(), res.body(), 502, "upstream_reset");
    }

    /** The endpoint announces 1000 bytes (content-length or chunked), sends 400, closes: the client must notice. */
    @ParameterizedTest
    @EnumSource(Proto.class)
    void endpointClosingMidBodyBreaksTheResponse(Proto proto) {
        for (String query : new String[] {"n=1000&after=400", "n=1000&after=400&chunked=1"}) {
            assertThatThrownBy(() -> relay.client(proto).send(
                    HttpRequest.newBuilder(relay.uri(proto, "/ep/close-mid-body?" + query))
                            .timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofByteArray()))
                    .as("truncated body (%s) over %s", query, proto)
                    .isInstanceOf(IOException.class);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"h1", "h1-tls", "h2", "h2c"})
    void endpointClosingMidBodyFailsCurl(String how) {
        for (String query : new String[] {"n=1000&after=400", "n=1000&after=400&chunked=1"}) {
            Curl.Response res = curl(how, "/ep/close-mid-body?" + query).execute();

            assertThat(res.exitCode()).as("curl over %s, %s: %s", how, query, res.stderr()).isNotZero();
            if (how.startsWith("h1")) {
                assertThat(res.exitCode()).as("CURLE_PARTIAL_FILE").isEqualTo(18);
            }
            assertThat(res.body().length).isLessThan(1000);
        }
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void noRouteIs404WithRequestId(Proto proto) throws Exception {
        HttpResponse<String> res = get(proto, "/nowhere");

        Envelope.assertError(res.statusCode(), res.body(), 404, "route_not_found");
        String id = Envelope.requestId(res.body());
        assertThat(id).isNotEmpty();
        assertThat(res.headers().firstValue("x-request-id")).hasValue(id);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void clientRequestIdIsKeptInTheEnvelope(Proto proto) throws Exception {
        HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/nowhere"))
                .header("x-request-id", "test-id-42").build(), HttpResponse.BodyHandlers.ofString());

        assertThat(Envelope.requestId(res.body())).isEqualTo("test-id-42");
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void wrongMethodIs405WithAllow(Proto proto) throws Exception {
        HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/get-only"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());

        Envelope.assertError(res.statusCode(), res.body(), 405, "method_not_allowed");
        assertThat(res.headers().firstValue("allow")).hasValue("GET");
    }

    /**
     * The proxy answers {@code Expect: 100-continue} itself once the route is known, and does not pass the
     * expectation on. {@code --expect100-timeout 30} makes curl wait for the 100 instead of sending anyway.
     */
    @ParameterizedTest
    @ValueSource(strings = {"h1", "h1-tls"})
    void expectContinueIsAnsweredAndNotForwarded(String how) {
        Curl.Response res = curl(how, "/ep/sink").header("Expect", "100-continue")
                .arg("--expect100-timeout", "30", "-v").body(BodyPattern.bytes(5000)).execute();

        assertThat(res.status()).as(res.stderr()).isEqualTo(200);
        assertThat(res.stderr()).contains("HTTP/1.1 100");
        assertThat(res.bodyString()).contains("\"bytes\":5000");
        RecordedRequest seen = endpoint.lastRequest();
        assertThat(seen.path()).isEqualTo("/sink");
        assertThat(seen.header("expect")).isEmpty();
        assertThat(seen.bodyLength()).isEqualTo(5000);
    }

    private static Curl curl(String how, String path) {
        return switch (how) {
            case "h1" -> Curl.to(relay.plainUrl(path)).http1_1();
            case "h1-tls" -> Curl.to(relay.tlsUrl(path)).http1_1().cacert(RelayHarness.certs().caCertPath());
            case "h2" -> Curl.to(relay.tlsUrl(path)).http2().cacert(RelayHarness.certs().caCertPath());
            case "h2c" -> Curl.to(relay.plainUrl(path)).http2PriorKnowledge();
            default -> throw new IllegalArgumentException(how);
        };
    }
}
