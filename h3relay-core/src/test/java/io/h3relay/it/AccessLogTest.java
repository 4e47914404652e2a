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

    /**
     * A 413 for a route that matched logs that route, on every protocol, whether the body was declared too
     * large (Content-Length: refused with the head) or grew too large while streaming (refused mid-body).
     * The declared case once refused before routing, so h2c (curl sends a length) logged "route":null.
     */
    @Test
    void logsTheRouteOfA413WhetherTheBodyWasDeclaredOrStreamed() throws Exception {
        Path log = Files.createTempDirectory("h3relay-access").resolve("access.log");
        try (TestEndpoint endpoint = TestEndpoint.start("limited")) {
            RelayHarness relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                    routes:
                      - { name: upload, match: { path_prefix: /sink }, cluster: c }
                    clusters:
                      - { name: c, endpoints: [ { address: "@EP@" } ] }
                    observability: { access_log: { path: "@LOG@", format: json } }
                    """).with("LIMITS", "{ max_request_body_size: 1KiB }").with("EP", endpoint.address())
                    .with("LOG", log).start();
            List<String> ids = new ArrayList<>();
            try {
                for (Proto proto : Proto.values()) {
                    String declared = "declared-" + proto;
                    HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(
                            relay.uri(proto, "/sink")).header("x-request-id", declared).timeout(Duration.ofSeconds(10))
                            .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[4096])).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(res.statusCode()).isEqualTo(413);
                    ids.add(declared);
                    String streamed = "streamed-" + proto;
                    try {
                        relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/sink"))
                                .header("x-request-id", streamed).timeout(Duration.ofSeconds(10))
                                .POST(HttpRequest.BodyPublishers.ofInputStream(
                                        () -> new java.io.ByteArrayInputStream(new byte[64 * 1024]))).build(),
                                HttpResponse.BodyHandlers.ofString());
                    } catch (java.io.IOException cut) {
                        // the client may see its upload cut instead of the 413: the log says 413 anyway
                    }
                    ids.add(streamed);
                }
                io.h3relay.testing.Curl.Response h2c = io.h3relay.testing.Curl.to(relay.plainUrl("/sink"))
                        .http2PriorKnowledge().header("x-request-id", "declared-h2c").body(new byte[4096]).execute();
                assertThat(h2c.status()).as(h2c.stderr()).isEqualTo(413);
                assertThat(h2c.httpVersion()).isEqualTo("2");
                ids.add("declared-h2c");
                await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                        assertThat(Files.readAllLines(log)).hasSize(ids.size()));
            } finally {
                relay.close();
            }
            for (String id : ids) {
                String line = Files.readAllLines(log).stream().filter(l -> l.contains("\"" + id + "\""))
                        .findFirst().orElseThrow();
                @SuppressWarnings("unchecked")
                Map<String, Object> e = (Map<String, Object>) JSON.loadFromString(line);
                assertThat(e.get("status")).as(line).isEqualTo(413);
                assertThat(e.get("error")).as(line).isEqualTo("request_body_too_large");
                assertThat(e.get("route")).as(line).isEqualTo("upload");
            }
        }
    }
}
