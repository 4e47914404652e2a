package io.h3relay.it;

import io.h3relay.cluster.Cluster;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Passive outlier detection, over h1, h2 and h3, without active checks and without retries (so that every
 * request an endpoint gets is one the client sees): an endpoint answering 503 is ejected after
 * consecutive_5xx answers and gets nothing more; an endpoint refusing connections is ejected after
 * consecutive_connect_failures; max_ejection_percent keeps the rest of the cluster in.
 */
class OutlierDetectionTest {
    TestEndpoint e1;
    TestEndpoint e2;
    TestEndpoint e3;
    RelayHarness relay;

    @BeforeEach
    void start() {
        e1 = TestEndpoint.start("e1");
        e2 = TestEndpoint.start("e2");
        e3 = TestEndpoint.start("e3");
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - name: c
                    load_balancer: round_robin
                    endpoints: [ { address: "@E1@" }, { address: "@E2@" }, { address: "@E3@" } ]
                    outlier_detection: { consecutive_5xx: 3, consecutive_connect_failures: 2,
                                         base_ejection_time: 30s, max_ejection_percent: 34 }
                """).with("LIMITS", "{}").with("E1", e1.address()).with("E2", e2.address())
                .with("E3", e3.address()).start();
    }

    @AfterEach
    void stop() {
        relay.close();
        e1.close();
        e2.close();
        e3.close();
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void anEndpointAnswering503IsEjectedAndGetsNoMoreRequests(Proto proto) throws Exception {
        e2.forceStatus(503);
        HttpClient client = relay.client(proto);
        int unavailable = 0;
        for (int i = 0; i < 30; i++) {
            HttpResponse<String> res = client.send(HttpRequest.newBuilder(relay.uri(proto, "/get")).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (res.statusCode() == 503) {
                unavailable++;
            }
        }
        assertThat(e2.requestCount()).as("three 503s, then ejected").isEqualTo(3);
        assertThat(unavailable).isEqualTo(3);
        assertThat(e1.requestCount() + e3.requestCount()).isEqualTo(27);
        Cluster c = relay.server().clusters().get("c");
        assertThat(c.endpoints().get(1).health().isEjected()).isTrue();
        assertThat(c.snapshot().endpoints()).hasSize(2);
        assertThat(MetricsScrape.of(relay).value("h3relay_upstream_ejections_total",
                java.util.Map.of("cluster", "c", "endpoint", e2.address()))).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void maxEjectionPercentKeepsTheRestIn(Proto proto) throws Exception {
        e1.forceStatus(503);
        e2.forceStatus(503);
        HttpClient client = relay.client(proto);
        for (int i = 0; i < 30; i++) {
            client.send(HttpRequest.newBuilder(relay.uri(proto, "/get")).build(), HttpResponse.BodyHandlers.ofString());
        }
        Cluster c = relay.server().clusters().get("c");
        // 34% of 3 endpoints: one may be out at a time; the other failing one keeps its share.
        long ejected = c.endpoints().stream().filter(e -> e.health().isEjected()).count();
        assertThat(ejected).isEqualTo(1);
        assertThat(e1.requestCount() + e2.requestCount()).isGreaterThan(6);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void anEndpointRefusingConnectionsIsEjected(Proto proto) throws Exception {
        e3.stop();
        HttpClient client = relay.client(proto);
        int failed = 0;
        for (int i = 0; i < 30; i++) {
            HttpResponse<String> res = client.send(HttpRequest.newBuilder(relay.uri(proto, "/get")).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (res.statusCode() == 502) {
                Envelope.assertError(res.statusCode(), res.body(), 502, "upstream_connect_failed");
                failed++;
            }
        }
        assertThat(failed).as("two connect failures, then ejected").isEqualTo(2);
        assertThat(relay.server().clusters().get("c").endpoints().get(2).health().isEjected()).isTrue();
    }
}
