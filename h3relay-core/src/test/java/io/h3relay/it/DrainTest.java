package io.h3relay.it;

import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Drain, over h1, h2 and h3 (started by a stop, as SIGTERM does, or by POST /drain on the admin listener):
 * a long streaming response in flight completes intact, /readyz turns 503 at once, requests on new
 * connections get 503 with Retry-After and the JSON envelope, and the stop returns well before the drain
 * timeout. A response still streaming when the drain timeout ends is cut, never passed off as complete.
 * This is the drain proper ({@code drain_delay: 0}); what comes before it is {@link DrainDelayTest}'s.
 */
class DrainTest {
    TestEndpoint endpoint;
    RelayHarness relay;

    @BeforeEach
    void start() {
        endpoint = TestEndpoint.start("drain");
        relay = RelayHarness.yaml(RelayHarness.LISTENERS.replace("drain_timeout: 2s", "drain_delay: 0, drain_timeout: 20s") + """
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                """).with("LIMITS", "{}").with("EP", endpoint.address()).start();
    }

    @AfterEach
    void stop() {
        relay.close();
        endpoint.close();
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void inFlightExchangeFinishesWhileNewWorkIsRefused(Proto proto) throws Exception {
        CompletableFuture<HttpResponse<byte[]>> inFlight = startSlow(proto, "chunks=10&interval=150&size=1000");

        long started = System.nanoTime();
        CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> relay.server().stop(Duration.ofSeconds(20)));
        assertDrainingWhileInFlightCompletes(proto, inFlight, stopping, started);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void postDrainOnTheAdminListenerDrainsTheSameWay(Proto proto) throws Exception {
        CompletableFuture<HttpResponse<byte[]>> inFlight = startSlow(proto, "chunks=10&interval=150&size=1000");

        long started = System.nanoTime();
        URI drain = URI.create("http://127.0.0.1:" + relay.server().adminAddress().getPort() + "/drain");
        try (HttpClient admin = HttpClient.newHttpClient()) {
            assertThat(admin.send(HttpRequest.newBuilder(drain).GET().build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode()).as("GET is not allowed").isEqualTo(405);
            assertThat(admin.send(HttpRequest.newBuilder(drain).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(202);
            assertThat(admin.send(HttpRequest.newBuilder(drain).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode()).as("already draining").isEqualTo(409);
        }
        CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> relay.server().awaitStopped());
        assertDrainingWhileInFlightCompletes(proto, inFlight, stopping, started);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void aResponseStillStreamingAtTheDrainTimeoutIsCutNotCompleted(Proto proto) throws Exception {
        CompletableFuture<HttpResponse<byte[]>> inFlight = startSlow(proto, "chunks=20&interval=200&size=1000");
        relay.server().stop(Duration.ofMillis(800));
        assertThatThrownBy(() -> inFlight.get(10, java.util.concurrent.TimeUnit.SECONDS))
                .as("a cut response must not look complete").hasCauseInstanceOf(java.io.IOException.class);
    }

    /** A slow streaming response, once it reached the endpoint (really in flight). */
    private CompletableFuture<HttpResponse<byte[]>> startSlow(Proto proto, String query) {
        CompletableFuture<HttpResponse<byte[]>> inFlight = relay.client(proto).sendAsync(
                HttpRequest.newBuilder(relay.uri(proto, "/slow?" + query)).build(), HttpResponse.BodyHandlers.ofByteArray());
        await().atMost(Duration.ofSeconds(5)).until(() -> endpoint.requestCount() > 0);
        return inFlight;
    }

    private void assertDrainingWhileInFlightCompletes(Proto proto, CompletableFuture<HttpResponse<byte[]>> inFlight,
                                                      CompletableFuture<Void> stopping, long started) throws Exception {
        URI readyz = URI.create("http://127.0.0.1:" + relay.server().adminAddress().getPort() + "/readyz");
        try (HttpClient admin = HttpClient.newHttpClient()) {
            await().atMost(Duration.ofSeconds(2)).until(() ->
                    admin.send(HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.discarding())
                            .statusCode() == 503);
        }
        // A client arriving during the drain, on a new connection: 503 + Retry-After, not a refused connection.
        try (HttpClient fresh = proto == Proto.H3 ? new io.h3relay.testing.Http3TestClient(RelayHarness.certs().caCert())
                : HttpClient.newBuilder().version(proto.version).sslContext(RelayHarness.certs().trustingSslContext())
                .build()) {
            HttpResponse<String> refused = fresh.send(HttpRequest.newBuilder(relay.uri(proto, "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            Envelope.assertError(refused.statusCode(), refused.body(), 503, "draining");
            assertThat(refused.headers().firstValue("retry-after")).hasValue("1");
        }

        HttpResponse<byte[]> res = inFlight.get();
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body()).hasSize(10_000);
        stopping.get();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(15));
    }
}
