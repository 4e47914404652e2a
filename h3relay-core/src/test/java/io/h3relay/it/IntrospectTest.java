package io.h3relay.it;

import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Admin /introspect: effective config without secrets, listeners, routes, clusters with live counters. */
class IntrospectTest {
    @Test
    @SuppressWarnings("unchecked")
    void describesTheRunningProxyWithSecretsRedacted() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("seen")) {
            RelayHarness relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                    routes:
                      - name: api
                        match: { path_prefix: / }
                        cluster: c
                        request_headers: { add: { authorization: "Bearer s3cret-token" } }
                    clusters:
                      - { name: c, endpoints: [ { address: "@EP@", weight: 3 } ] }
                    observability: { access_log: { path: "off" } }
                    """).with("LIMITS", "{}").with("EP", endpoint.address()).start();
            try (HttpClient http = HttpClient.newHttpClient()) {
                for (Proto proto : Proto.values()) {
                    assertThat(relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/")).build(),
                            HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
                }
                HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + relay.server().adminAddress().getPort() + "/introspect")).build(),
                        HttpResponse.BodyHandlers.ofString());

                assertThat(res.statusCode()).isEqualTo(200);
                assertThat(res.headers().firstValue("content-type")).hasValue("application/json");
                assertThat(res.body()).doesNotContain("s3cret").contains("[redacted]");
                Map<String, Object> doc = (Map<String, Object>) new Load(LoadSettings.builder().build())
                        .loadFromString(res.body());
                assertThat(doc.get("draining")).isEqualTo(false);
                List<Map<String, Object>> listeners = (List<Map<String, Object>>) doc.get("listeners");
                Map<String, Object> tls = listeners.stream().filter(l -> "tls".equals(l.get("name"))).findFirst()
                        .orElseThrow();
                assertThat((List<String>) tls.get("protocols")).contains("http3", "http2", "http1");
                assertThat(tls.get("tcp_address")).asString().endsWith(":" + relay.tlsPort());
                assertThat((List<String>) tls.get("udp_addresses")).allMatch(a -> a.endsWith(":" + relay.tlsPort()));
                assertThat(((Number) tls.get("requests_total")).intValue()).isEqualTo(3);

                Map<String, Object> cluster = ((List<Map<String, Object>>) doc.get("clusters")).get(0);
                assertThat(cluster.get("name")).isEqualTo("c");
                Map<String, Object> ep = ((List<Map<String, Object>>) cluster.get("endpoints")).get(0);
                assertThat(ep.get("address")).isEqualTo(endpoint.address());
                assertThat(ep.get("weight")).isEqualTo(3);
                assertThat(ep.get("healthy")).isEqualTo(true);
                assertThat(ep.get("active_requests")).isEqualTo(0);
                assertThat(((Number) ep.get("responses_total")).intValue()).isEqualTo(3);
                assertThat(((Number) ep.get("pool_idle")).intValue()).isPositive();

                assertThat((List<Object>) doc.get("routes")).hasSize(1);
                Map<String, Object> config = (Map<String, Object>) doc.get("config");
                assertThat(config).containsKeys("listeners", "routes", "clusters", "observability", "admin");
            } finally {
                relay.close();
            }
        }
    }
}
