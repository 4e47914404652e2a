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
import static org.awaitility.Awaitility.await;

/**
 * Stop with drain, over h1 and h2: a long streaming response in flight completes intact, /readyz turns
 * 503 at once, new connections are refused, and the stop returns well before the drain timeout.
 */
class DrainTest {
    TestEndpoint endpoint;
    RelayHarness relay;

    @BeforeEach
    void start() {
        endpoint = TestEndpoint.start("drain");
        relay = RelayHarness.yaml(RelayHarness.LISTENERS.replace("drain_timeout: 2s", "drain_timeout: 20s") + """
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
        HttpClient client = relay.client(proto);
        URI slow = relay.uri(proto, "/slow?chunks=10&interval=150&size=1000");
        CompletableFuture<HttpResponse<byte[]>> inFlight = client.sendAsync(HttpRequest.newBuilder(slow).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        await().atMost(Duration.ofSeconds(5)).until(() -> endpoint.requestCount() > 0);

        long started = System.nanoTime();
        CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> relay.server().stop(Duration.ofSeconds(20)));
        URI readyz = URI.create("http://127.0.0.1:" + relay.server().adminAddress().getPort() + "/readyz");
        try (HttpClient admin = HttpClient.newHttpClient()) {
            await().atMost(Duration.ofSeconds(2)).until(() ->
                    admin.send(HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.discarding())
                            .statusCode() == 503);
        }
        // h1/h2: a new connection. h3: a new stream on the draining connection (after its GOAWAY), which
        // must be refused with H3_REQUEST_REJECTED (or, racing the GOAWAY, get the 503).
        try (HttpClient fresh = proto == Proto.H3 ? new io.h3relay.testing.Http3TestClient(RelayHarness.certs().caCert())
                : HttpClient.newBuilder().version(proto.version).sslContext(RelayHarness.certs().trustingSslContext())
                .build()) {
            HttpClient late = proto == Proto.H3 ? client : fresh;
            // New work is refused: the listener no longer accepts, or (racing the close) 503 + Retry-After.
            try {
                HttpResponse<String> refused = late.send(HttpRequest.newBuilder(relay.uri(proto, "/")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(refused.statusCode()).isEqualTo(503);
                assertThat(refused.headers().firstValue("retry-after")).isPresent();
                assertThat(refused.body()).contains("\"code\":\"draining\"");
            } catch (java.io.IOException refused) {
                // connection refused: the listener is closed
            }
        }

        HttpResponse<byte[]> res = inFlight.get();
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body()).hasSize(10_000);
        stopping.get();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(15));
    }
}
