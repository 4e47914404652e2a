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
}
