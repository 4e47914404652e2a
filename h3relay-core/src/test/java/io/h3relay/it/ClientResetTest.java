package io.h3relay.it;

import io.h3relay.upstream.UpstreamPool;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A client that gives up mid-response (h1: closes the connection, h2: RST_STREAM, h3: STOP_SENDING +
 * RESET_STREAM with H3_REQUEST_CANCELLED, keeping the connection) cancels the upstream attempt: its
 * connection to the endpoint is closed, not left streaming into the void, and not returned to the pool
 * half-read.
 */
class ClientResetTest {
    static TestEndpoint endpoint;
    static RelayHarness relay;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start("reset");
        relay = RelayHarness.singleCluster(endpoint.address(), "{}");
    }

    @AfterAll
    static void stop() {
        relay.close();
        endpoint.close();
    }

    private UpstreamPool pool() {
        var cluster = relay.server().clusters().get("c");
        return cluster.pool(cluster.endpoints().get(0));
    }

    @ParameterizedTest
    @EnumSource(value = Proto.class, names = {"H1", "H2", "H3"})
    void cancellingTheResponseCancelsTheUpstreamAttempt(Proto proto) throws Exception {
        int before = pool().connectionCount(); // idle keep-alive connections left by other tests
        HttpResponse<InputStream> res = relay.client(proto).send(HttpRequest.newBuilder(
                        relay.uri(proto, "/slow?chunks=100&interval=100&size=1000")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(res.statusCode()).isEqualTo(200);
        InputStream body = res.body();
        assertThat(body.read(new byte[500])).isPositive();
        int during = pool().connectionCount();
        assertThat(during).isPositive();

        body.close(); // gives up: the client resets its stream (or closes the connection)

        // The endpoint would stream for 10 s more; the attempt's connection must be closed long before.
        await().atMost(Duration.ofSeconds(5)).until(() -> pool().connectionCount() < during);
    }

    /**
     * The same for a download the client stops reading: the endpoint's 64 MiB fill the socket buffers, so
     * h3relay has stopped reading the upstream connection (backpressure) when the client gives up. The
     * attempt's connection is closed all the same, not left in the pool as active, unread, forever (what
     * SoakTest's descriptor growth was: one such connection per h2/h3 reset).
     */
    @ParameterizedTest
    @EnumSource(value = Proto.class, names = {"H1", "H2", "H3"})
    void cancellingABackpressuredDownloadClosesItsUpstreamConnection(Proto proto) throws Exception {
        for (int i = 0; i < 4; i++) { // one abandon left the connection behind in about half the runs
            HttpResponse<InputStream> res = relay.client(proto).send(HttpRequest.newBuilder(
                            relay.uri(proto, "/bytes?n=" + (64 << 20))).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(res.statusCode()).isEqualTo(200);
            InputStream body = res.body();
            assertThat(body.readNBytes(64 << 10)).hasSize(64 << 10);
            assertThat(active()).isPositive();
            // The client reads no more: h3relay fills the client's flow-control window and its own buffers
            // and stops reading the endpoint. A pause, not a wait for a condition: backpressure has no event.
            await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> true);

            body.close();

            int round = i;
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(active())
                    .as("active upstream connections (in the pool, carrying a request) after abandon %d", round)
                    .isZero());
        }
    }

    private int active() {
        return pool().connectionCount() - pool().idleCount();
    }
}
