package io.h3relay.it;

import io.h3relay.testing.PythonWebSockets;
import io.h3relay.testing.WebSocketStreamClient;
import io.opentelemetry.proto.trace.v1.Span;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A WebSocket session leaves one access-log line, written when it ends, with the session's duration and the
 * bytes relayed each way, and one server span covering the session (h2 and h3 extended CONNECT here; the
 * h1 case is the same exchange path).
 */
class WebSocketObservabilityTest {
    static PythonWebSockets.Endpoint endpoint;
    static OtlpReceiver receiver;
    static RelayHarness relay;
    static Path log;

    @BeforeAll
    static void start() throws Exception {
        endpoint = PythonWebSockets.startEndpoint();
        receiver = new OtlpReceiver();
        log = Files.createTempDirectory("h3relay-ws-log").resolve("access.log");
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: ws, match: { path_prefix: /, websocket: true }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                observability:
                  access_log: { path: "@LOG@", format: json }
                  tracing: { exporter: otlp, endpoint: "@OTLP@", sampling_ratio: 1.0, service_name: ws-test }
                """).with("LIMITS", "{}").with("EP", endpoint.address()).with("OTLP", receiver.endpoint())
                .with("LOG", log).start();
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            relay.close();
        }
        if (receiver != null) {
            receiver.close();
        }
        if (endpoint != null) {
            endpoint.close();
        }
    }

    @ParameterizedTest
    @EnumSource(WebSocketStreamClient.Version.class)
    void oneLogLineAndOneSpanPerSession(WebSocketStreamClient.Version v) throws Exception {
        String traceId = "4bf92f3577b34da6a3ce929d0e0e47" + (v == WebSocketStreamClient.Version.H2 ? "02" : "03");
        String path = "/observed-" + v;
        try (WebSocketStreamClient c = WebSocketStreamClient.connect(v, relay.tlsPort(), RelayHarness.certs().caCert())) {
            assertThat(c.open(path, "websocket", Map.of("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01")))
                    .isEqualTo(200);
            for (int i = 0; i < 5; i++) {
                c.sendText("0123456789");
                assertThat(c.nextMessage(Duration.ofSeconds(5))).isEqualTo("0123456789");
            }
            Thread.sleep(600); // the session's length, which the log and the span must show (not a wait)
            c.sendClose(1000, "");
            c.closeFrame().release();
            c.ended.get(10, TimeUnit.SECONDS);
            c.endStream();
            c.closed.get(10, TimeUnit.SECONDS);
        }
        Map<String, Object> line = await().atMost(Duration.ofSeconds(10)).until(() -> logLine(path), l -> l != null);
        assertThat(line).containsEntry("method", "CONNECT").containsEntry("status", 200).containsEntry("route", "ws");
        assertThat(((Number) line.get("duration_ms")).doubleValue()).isGreaterThanOrEqualTo(600);
        // 5 masked frames of 10 bytes each way up (16 bytes each) and 5 unmasked back (12), plus the closes.
        assertThat(((Number) line.get("bytes_in")).longValue()).isGreaterThanOrEqualTo(5 * 16);
        assertThat(((Number) line.get("bytes_out")).longValue()).isGreaterThanOrEqualTo(5 * 12);
        assertThat(Files.readAllLines(log).stream().filter(l -> l.contains("\"" + path + "\""))).hasSize(1);

        List<Span> spans = await().atMost(Duration.ofSeconds(15)).until(() -> receiver.spans.stream()
                .filter(s -> OtlpReceiver.hex(s.getTraceId().toByteArray()).equals(traceId))
                .filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_SERVER).toList(), l -> !l.isEmpty());
        Span server = spans.get(0);
        assertThat(Duration.ofNanos(server.getEndTimeUnixNano() - server.getStartTimeUnixNano()))
                .as("the server span covers the session").isGreaterThanOrEqualTo(Duration.ofMillis(600));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> logLine(String path) throws Exception {
        if (!Files.exists(log)) {
            return null;
        }
        Load yaml = new Load(LoadSettings.builder().build());
        for (String l : Files.readAllLines(log)) {
            if (l.contains("\"" + path + "\"")) {
                return (Map<String, Object>) yaml.loadFromString(l);
            }
        }
        return null;
    }
}
