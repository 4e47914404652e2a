package io.h3relay.it;

import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Admin /metrics after real traffic over h1, h2 and h3: counters and histograms move under the right labels,
 * and the exposition format follows the Accept header.
 */
class MetricsTest {
    static TestEndpoint endpoint;
    static RelayHarness relay;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start("metrics");
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: api, match: { path_prefix: /api }, cluster: c }
                  - { name: slow, match: { path_prefix: /delay }, cluster: c }
                  - { name: down, match: { path_prefix: /down }, cluster: dead }
                  - { name: hello, match: { path_prefix: /hello }, respond: { status: 200, body: "hi" } }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                  - { name: dead, endpoints: [ { address: "127.0.0.1:1" } ] }
                observability: { access_log: { path: "off" } }
                """).with("LIMITS", "{}").with("EP", endpoint.address()).start();
    }

    @AfterAll
    static void stop() {
        relay.close();
        endpoint.close();
    }

    static String protocolLabel(Proto proto) {
        return switch (proto) {
            case H1 -> "http/1.1";
            case H2 -> "h2";
            case H3 -> "h3";
        };
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void countsRequestsDurationsAndBodiesByProtocolAndRoute(Proto proto) throws Exception {
        String p = protocolLabel(proto);
        Map<String, String> ok = Map.of("listener", "tls", "protocol", p, "method", "POST", "code_class", "2xx",
                "route", "api");
        Map<String, String> byRoute = Map.of("listener", "tls", "protocol", p, "route", "api");
        String ep = endpoint.address();
        MetricsScrape before = MetricsScrape.of(relay);

        long responseBytes = 0;
        for (int i = 0; i < 3; i++) {
            HttpResponse<byte[]> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/api/echo"))
                    .POST(HttpRequest.BodyPublishers.ofString("0123456789")).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(res.statusCode()).isEqualTo(200);
            responseBytes += res.body().length;
        }
        HttpResponse<String> missing = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/nowhere"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(missing.statusCode()).isEqualTo(404);
        HttpResponse<String> down = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/down"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(down.statusCode()).isEqualTo(502);

        MetricsScrape after = MetricsScrape.of(relay);
        assertThat(delta(before, after, "h3relay_downstream_requests_total", ok)).isEqualTo(3);
        assertThat(delta(before, after, "h3relay_downstream_requests_total", Map.of("protocol", p,
                "code_class", "4xx", "route", "none", "method", "GET"))).isEqualTo(1);
        assertThat(delta(before, after, "h3relay_downstream_requests_total", Map.of("protocol", p,
                "code_class", "5xx", "route", "down"))).isEqualTo(1);
        assertThat(delta(before, after, "h3relay_downstream_request_duration_seconds", byRoute)).isEqualTo(3);
        assertThat(after.histogramBucketsTotal("h3relay_downstream_request_duration_seconds", byRoute))
                .as("the requests fall into finite buckets").isGreaterThanOrEqualTo(3);
        assertThat(delta(before, after, "h3relay_downstream_request_body_bytes_total", byRoute)).isEqualTo(30);
        assertThat(delta(before, after, "h3relay_downstream_response_body_bytes_total", byRoute)).isEqualTo(responseBytes);
        assertThat(after.value("h3relay_downstream_requests_active", Map.of("protocol", p))).isZero();
        assertThat(after.value("h3relay_downstream_connections_total", Map.of("listener", "tls", "protocol", p)))
                .isGreaterThanOrEqualTo(1);

        assertThat(delta(before, after, "h3relay_upstream_requests_total", Map.of("cluster", "c", "endpoint", ep,
                "code_class", "2xx"))).isEqualTo(3);
        assertThat(delta(before, after, "h3relay_upstream_request_duration_seconds", Map.of("cluster", "c",
                "endpoint", ep))).isEqualTo(3);
        assertThat(delta(before, after, "h3relay_upstream_attempts_total", Map.of("cluster", "c"))).isEqualTo(3);
        assertThat(delta(before, after, "h3relay_upstream_connect_failures_total", Map.of("cluster", "dead",
                "endpoint", "127.0.0.1:1"))).isEqualTo(1);
        assertThat(delta(before, after, "h3relay_upstream_attempt_failures_total", Map.of("cluster", "dead",
                "error", "upstream_connect_failed"))).isEqualTo(1);
        assertThat(after.value("h3relay_upstream_pool_connections", Map.of("cluster", "c", "state", "idle")))
                .isGreaterThanOrEqualTo(1);
        assertThat(after.value("h3relay_upstream_endpoint_healthy", Map.of("cluster", "c", "endpoint", ep)))
                .isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void countsActiveRequestsWhileTheyAreInFlight(Proto proto) throws Exception {
        Map<String, String> labels = Map.of("listener", "tls", "protocol", protocolLabel(proto));
        CompletableFuture<HttpResponse<String>> slow = relay.client(proto).sendAsync(HttpRequest.newBuilder(
                relay.uri(proto, "/delay?ms=1500")).build(), HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                assertThat(MetricsScrape.of(relay).value("h3relay_downstream_requests_active", labels)).isEqualTo(1));
        assertThat(slow.get().statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                assertThat(MetricsScrape.of(relay).value("h3relay_downstream_requests_active", labels)).isZero());
    }

    @Test
    void quicConnectionsReportHandshakesPacketsAndRtt() throws Exception {
        HttpResponse<String> res = relay.client(Proto.H3).send(HttpRequest.newBuilder(relay.uri(Proto.H3, "/hello"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).isEqualTo(200);

        MetricsScrape m = MetricsScrape.of(relay);
        Map<String, String> tls = Map.of("listener", "tls");
        assertThat(m.value("h3relay_quic_connections_total", tls)).isGreaterThanOrEqualTo(1);
        assertThat(m.value("h3relay_quic_connections_active", tls)).isGreaterThanOrEqualTo(1);
        assertThat(m.value("h3relay_quic_handshakes_total", Map.of("listener", "tls", "result", "success")))
                .isGreaterThanOrEqualTo(1);
        assertThat(m.value("h3relay_quic_handshake_duration_seconds", tls)).isGreaterThanOrEqualTo(1);
        assertThat(m.value("h3relay_quic_packets_total", Map.of("listener", "tls", "direction", "received")))
                .isGreaterThan(0);
        assertThat(m.value("h3relay_quic_packets_total", Map.of("listener", "tls", "direction", "sent")))
                .isGreaterThan(0);
        assertThat(m.value("h3relay_quic_bytes_total", Map.of("listener", "tls", "direction", "sent")))
                .isGreaterThan(1000); // at least the handshake's certificate
        assertThat(m.value("h3relay_quic_smoothed_rtt_seconds", tls)).isGreaterThanOrEqualTo(1);
        assertThat(m.histogramBucketsTotal("h3relay_quic_smoothed_rtt_seconds", tls))
                .as("loopback RTT is below a second").isGreaterThanOrEqualTo(1);
        assertThat(m.value("h3relay_quic_socket_connections_total", tls)).isGreaterThanOrEqualTo(1);
        assertThat(m.value("h3relay_downstream_connections_total", Map.of("listener", "tls", "protocol", "h3")))
                .isGreaterThanOrEqualTo(1);
    }

    /**
     * Each listener exports series for the protocols it can serve, at zero before any traffic: the plaintext
     * listener (h1 + h2c) has no h3, QUIC or TLS series; the TLS one (h1, h2, h3) has them all.
     */
    @Test
    void exportsSeriesOnlyForTheProtocolsAListenerServes() throws Exception {
        MetricsScrape m = MetricsScrape.of(relay);
        for (String family : new String[] {"h3relay_downstream_requests_active",
                "h3relay_downstream_connections_total", "h3relay_downstream_connections_active"}) {
            for (String p : new String[] {"http/1.1", "h2"}) {
                assertThat(m.hasSeries(family, Map.of("listener", "plain", "protocol", p))).as(family + " plain " + p)
                        .isTrue();
            }
            assertThat(m.hasSeries(family, Map.of("listener", "plain", "protocol", "h3"))).as(family + " plain h3")
                    .isFalse();
            for (String p : new String[] {"http/1.1", "h2", "h3"}) {
                assertThat(m.hasSeries(family, Map.of("listener", "tls", "protocol", p))).as(family + " tls " + p)
                        .isTrue();
            }
        }
        for (String family : m.families.keySet()) {
            if (family.startsWith("h3relay_quic_") || family.startsWith("h3relay_downstream_tls_handshake_failures")) {
                assertThat(m.hasSeries(family, Map.of("listener", "plain"))).as(family + " plain").isFalse();
                assertThat(m.hasSeries(family, Map.of("listener", "tls"))).as(family + " tls").isTrue();
            }
        }
        assertThat(m.families.keySet()).contains("h3relay_quic_connections_total",
                "h3relay_downstream_tls_handshake_failures_total");
    }

    @Test
    void countsFailedTlsHandshakes() throws Exception {
        Map<String, String> tcp = Map.of("listener", "tls", "transport", "tcp");
        double before = MetricsScrape.of(relay).value("h3relay_downstream_tls_handshake_failures_total", tcp);
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", relay.tlsPort())) {
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            s.setSoTimeout(5_000);
            while (s.getInputStream().read() >= 0) {
                // the proxy answers plaintext on a TLS port with an alert, then closes
            }
        }
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() -> MetricsScrape.of(relay)
                .value("h3relay_downstream_tls_handshake_failures_total", tcp) == before + 1);
    }

    @Test
    void exposesJvmProcessAndAllocatorMetrics() throws Exception {
        // Some TCP traffic first: the pooled allocator holds memory only once connections used it.
        assertThat(relay.client(Proto.H1).send(HttpRequest.newBuilder(relay.uri(Proto.H1, "/hello")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        MetricsScrape m = MetricsScrape.of(relay);
        assertThat(m.value("jvm_memory_used_bytes", Map.of("area", "heap"))).isGreaterThan(0);
        assertThat(m.has("jvm_gc_collection_seconds")).isTrue();
        assertThat(m.value("jvm_threads_current", Map.of())).isGreaterThan(0);
        assertThat(m.has("process_cpu_seconds_total")).isTrue();
        assertThat(m.has("jvm_buffer_pool_used_bytes")).isTrue();
        assertThat(m.value("h3relay_netty_allocator_used_bytes", Map.of("allocator", "pooled", "type", "direct")))
                .isGreaterThan(0);
        assertThat(m.value("h3relay_netty_pooled_allocator_arenas", Map.of("type", "direct"))).isGreaterThan(0);
    }

    @Test
    void servesPrometheusTextOrOpenMetricsByAcceptHeader() throws Exception {
        HttpResponse<byte[]> text = MetricsScrape.get(relay, null);
        assertThat(text.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        String t = new String(text.body(), StandardCharsets.UTF_8);
        assertThat(t).contains("# TYPE h3relay_downstream_requests_total counter").doesNotContain("# EOF");

        HttpResponse<byte[]> om = MetricsScrape.get(relay,
                "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
        assertThat(om.headers().firstValue("content-type").orElseThrow()).startsWith("application/openmetrics-text");
        String o = new String(om.body(), StandardCharsets.UTF_8);
        assertThat(o).contains("# TYPE h3relay_downstream_requests counter").endsWith("# EOF\n");
    }

    /** An independent parser of the text format: Prometheus's own promtool (Debian package prometheus). */
    @Test
    void promtoolAcceptsTheTextFormat() throws Exception {
        java.nio.file.Path promtool = io.h3relay.testing.ExternalTool.require("promtool");
        HttpResponse<byte[]> text = MetricsScrape.get(relay, null);
        java.nio.file.Path file = java.nio.file.Files.createTempFile("h3relay-metrics", ".txt");
        try {
            java.nio.file.Files.write(file, text.body());
            var result = io.h3relay.testing.ExternalTool.run(java.time.Duration.ofSeconds(30), "sh", "-c",
                    "'" + promtool + "' check metrics < '" + file + "'");
            assertThat(result.exitCode()).as("promtool check metrics: %s %s", result.stdoutString(), result)
                    .isZero();
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }

    private static double delta(MetricsScrape before, MetricsScrape after, String family, Map<String, String> labels) {
        return after.value(family, labels) - before.value(family, labels);
    }
}
