package io.h3relay.it;

import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The JSON access log: one line per exchange with every field, over h1/h2/h3, and none lost at shutdown. */
class AccessLogTest {
    private static final Load JSON = new Load(LoadSettings.builder().build()); // YAML 1.2 reads JSON

    @Test
    void writesOneJsonLinePerExchangeAndLosesNoneAtShutdown() throws Exception {
        Path dir = Files.createTempDirectory("h3relay-access");
        Path log = dir.resolve("access.log");
        int burst = 300;
        try (TestEndpoint endpoint = TestEndpoint.start("logged")) {
            RelayHarness relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                    routes:
                      - { name: api, match: { path_prefix: / }, cluster: c }
                    clusters:
                      - { name: c, endpoints: [ { address: "@EP@" } ] }
                    observability: { access_log: { path: "@LOG@", format: json } }
                    """).with("LIMITS", "{}").with("EP", endpoint.address()).with("LOG", log).start();
            List<String> requestIds = new ArrayList<>();
            try {
                for (Proto proto : Proto.values()) {
                    HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(
                            relay.uri(proto, "/echo?p=" + proto)).header("x-request-id", "log-" + proto)
                            .POST(HttpRequest.BodyPublishers.ofString("12345")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(res.statusCode()).isEqualTo(200);
                    requestIds.add("log-" + proto);
                }
                // While the proxy runs, lines reach the file within the flush interval (tail -f works).
                await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                        assertThat(Files.readAllLines(log)).hasSize(Proto.values().length));
                // A burst, then an immediate stop: the event loops' buffers still hold lines.
                // Waves of 50 stay under the h2 connection's concurrent stream limit.
                for (int wave = 0; wave < burst / 50; wave++) {
                    List<CompletableFuture<HttpResponse<Void>>> all = new ArrayList<>();
                    for (int i = 0; i < 50; i++) {
                        all.add(relay.client(Proto.H2).sendAsync(HttpRequest.newBuilder(relay.uri(Proto.H2,
                                "/b" + wave + "-" + i)).build(), HttpResponse.BodyHandlers.discarding()));
                    }
                    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
                }
            } finally {
                relay.close();
            }

            List<String> lines = Files.readAllLines(log);
            assertThat(lines).hasSize(Proto.values().length + burst);
            for (Proto proto : Proto.values()) {
                String line = lines.stream().filter(l -> l.contains("\"log-" + proto + "\"")).findFirst().orElseThrow();
                @SuppressWarnings("unchecked")
                Map<String, Object> e = (Map<String, Object>) JSON.loadFromString(line);
                assertThat(e).containsKeys("time", "duration_ms", "trace_id", "client");
                assertThat((String) e.get("time")).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
                assertThat(e.get("listener")).isEqualTo("tls");
                assertThat(e.get("protocol")).isEqualTo(MetricsTest.protocolLabel(proto));
                assertThat(e.get("client")).isEqualTo("127.0.0.1");
                assertThat(e.get("method")).isEqualTo("POST");
                assertThat(e.get("authority")).isEqualTo("localhost:" + relay.tlsPort());
                assertThat(e.get("path")).isEqualTo("/echo?p=" + proto);
                assertThat(e.get("route")).isEqualTo("api");
                assertThat(e.get("status")).isEqualTo(200);
                assertThat(e.get("bytes_in")).isEqualTo(5);
                assertThat(((Number) e.get("bytes_out")).longValue()).isPositive();
                assertThat(((Number) e.get("duration_ms")).doubleValue()).isPositive();
                assertThat(e.get("endpoint")).isEqualTo(endpoint.address());
                assertThat(e.get("attempts")).isEqualTo(1);
                assertThat(e.get("trace_id")).isNull(); // tracing is off
            }
        }
    }
}
