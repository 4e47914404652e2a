package io.h3relay.it;

import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Route retries end to end, counting attempts at the endpoints: status and connect-failure retries go to
 * the other endpoint; a POST is sent again only when its whole body fits the replay limit (and then
 * arrives intact); the per-try timeout moves on to the next endpoint; the cluster's retry budget caps
 * retries when everything fails.
 *
 * <p>Endpoint {@code bad} fails (503, or down); {@code good} answers. Round robin over the two, with a
 * retry taking the next turn: every first try goes to {@code bad} and every retry to {@code good}.
 */
class RetryTest {
    TestEndpoint bad;
    TestEndpoint good;
    RelayHarness relay;

    @BeforeEach
    void start() {
        bad = TestEndpoint.start("bad");
        good = TestEndpoint.start("good");
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - name: small-replay
                    match: { path_prefix: /small/ }
                    cluster: c
                    rewrite: { strip_prefix: /small }
                    retry: { attempts: 2, on: [connect-failure, reset, "503"], replay_limit: 1KiB,
                             backoff: { base: 1ms, max: 5ms } }
                  - name: per-try
                    match: { path_prefix: /per-try/ }
                    cluster: c
                    rewrite: { strip_prefix: /per-try }
                    retry: { attempts: 2, on: [reset], per_try_timeout: 300ms, backoff: { base: 1ms, max: 5ms } }
                  - name: budget
                    match: { path_prefix: /budget/ }
                    cluster: budget
                    rewrite: { strip_prefix: /budget }
                    retry: { attempts: 5, on: ["503"], backoff: { base: 1ms, max: 2ms } }
                  - name: all
                    match: { path_prefix: / }
                    cluster: c
                    retry: { attempts: 2, on: [connect-failure, reset, "503"], backoff: { base: 1ms, max: 5ms } }
                clusters:
                  - name: c
                    load_balancer: round_robin
                    endpoints: [ { address: "@BAD@" }, { address: "@GOOD@" } ]
                  - name: budget
                    load_balancer: round_robin
                    endpoints: [ { address: "@BAD@" }, { address: "@GOOD@" } ]
                    retry_budget: { percent: 0, min_retries_per_second: 2 }
                """).with("LIMITS", "{}").with("BAD", bad.address()).with("GOOD", good.address()).start();
    }

    @AfterEach
    void stop() {
        relay.close();
        bad.close();
        good.close();
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void aStatusListedInOnIsRetriedOnTheOtherEndpoint(Proto proto) throws Exception {
        bad.forceStatus(503);
        HttpClient client = relay.client(proto);
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> res = client.send(HttpRequest.newBuilder(relay.uri(proto, "/get")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.body()).isEqualTo("endpoint good");
        }
        assertThat(bad.requestCount()).as("every first try").isEqualTo(6);
        assertThat(good.requestCount()).as("every retry").isEqualTo(6);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void aConnectFailureIsRetriedOnTheOtherEndpoint(Proto proto) throws Exception {
        bad.stop();
        HttpClient client = relay.client(proto);
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> res = client.send(HttpRequest.newBuilder(relay.uri(proto, "/get")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isEqualTo(200);
        }
        assertThat(good.requestCount()).isEqualTo(6);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void aPostWhoseBodyFitsTheReplayLimitIsSentAgainIntact(Proto proto) throws Exception {
        bad.forceStatus(503);
        byte[] body = new byte[800];
        Arrays.fill(body, (byte) 'x');
        HttpClient client = relay.client(proto);
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> res = client.send(HttpRequest.newBuilder(relay.uri(proto, "/small/echo"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.body()).isEqualTo(new String(body));
        }
        assertThat(bad.requests()).hasSize(4).allSatisfy(r -> assertThat(r.bodyLength()).isEqualTo(800));
        assertThat(good.requests()).hasSize(4).allSatisfy(r -> assertThat(r.bodyLength()).isEqualTo(800));
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void aPostWhoseBodyWentUpstreamAndExceedsTheReplayLimitIsNotRetried(Proto proto) throws Exception {
        bad.forceStatus(503);
        byte[] body = new byte[4096];
        HttpClient client = relay.client(proto);
        int unavailable = 0;
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> res = client.send(HttpRequest.newBuilder(relay.uri(proto, "/small/echo"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
            if (res.statusCode() == 503) {
                assertThat(res.body()).isEqualTo("forced status 503"); // the endpoint's answer, passed on
                unavailable++;
            } else {
                assertThat(res.statusCode()).isEqualTo(200);
            }
        }
        // Without retries round robin alternates; each request went upstream exactly once, and the two
        // that met bad got its 503.
        assertThat(unavailable).isEqualTo(2);
        assertThat(bad.requestCount()).isEqualTo(2);
        assertThat(good.requestCount()).isEqualTo(2);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void aPostThatNeverWentUpstreamIsRetriedWhateverItsSize(Proto proto) throws Exception {
        bad.stop();
        byte[] body = new byte[200_000];
        HttpClient client = relay.client(proto);
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> res = client.send(HttpRequest.newBuilder(relay.uri(proto, "/small/sink"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.body()).contains("\"bytes\":200000");
        }
        assertThat(good.requestCount()).isEqualTo(4);
    }

    @Test
    void thePerTryTimeoutMovesOnToTheNextEndpoint() throws Exception {
        HttpClient client = relay.client(Proto.H2);
        HttpResponse<String> res = client.send(HttpRequest.newBuilder(relay.uri(Proto.H2, "/per-try/delay?ms=3000"))
                .build(), HttpResponse.BodyHandlers.ofString());
        Envelope.assertError(res.statusCode(), res.body(), 504, "upstream_timeout");
        assertThat(res.body()).contains("per-try timeout");
        assertThat(bad.requestCount()).as("one try each").isEqualTo(1);
        assertThat(good.requestCount()).isEqualTo(1);
    }

    @Test
    void theRetryBudgetCapsRetriesWhenEverythingFails() throws Exception {
        bad.forceStatus(503);
        good.forceStatus(503);
        HttpClient client = relay.client(Proto.H1);
        int requests = 40;
        long started = System.nanoTime();
        for (int i = 0; i < requests; i++) {
            HttpResponse<String> res = client.send(HttpRequest.newBuilder(relay.uri(Proto.H1, "/budget/get"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isEqualTo(503);
        }
        long seconds = (System.nanoTime() - started) / 1_000_000_000L + 1; // seconds the run touched
        int attempts = bad.requestCount() + good.requestCount();
        // Without a budget: 5 tries each, 200 attempts. With 0% of the load and 2 retries per second over
        // the budget's 10 s window: at most 20 retries, plus 2 for every further second the run took.
        assertThat(attempts).isGreaterThan(requests).isLessThanOrEqualTo(requests + 20 + 2 * (int) seconds);
        MetricsScrape metrics = MetricsScrape.of(relay);
        assertThat(metrics.value("h3relay_upstream_retries_total", java.util.Map.of("cluster", "budget")))
                .isEqualTo(attempts - requests);
        assertThat(metrics.value("h3relay_upstream_retry_budget_denied_total", java.util.Map.of("cluster", "budget")))
                .isPositive();
    }
}
