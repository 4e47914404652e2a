package io.h3relay.it;

import io.h3relay.testing.PythonWebSockets;
import io.h3relay.testing.WebSocketStreamClient;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Routing of WebSockets ({@code match.websocket}) and their limits ({@code websocket_idle_timeout},
 * {@code max_websocket_duration}), on every protocol, with the metrics a session leaves.
 */
class WebSocketLimitsTest {
    static PythonWebSockets.Endpoint endpoint;
    static RelayHarness relay;

    @BeforeAll
    static void start() {
        endpoint = PythonWebSockets.startEndpoint();
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: no-ws, match: { path_prefix: /api, websocket: false }, cluster: c }
                  - { name: ws-only, match: { path_prefix: /live, websocket: true }, cluster: c }
                  - { name: short, match: { path_prefix: /short }, cluster: c }
                  - { name: all, match: { path_prefix: / }, respond: { status: 200, body: "plain" } }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                """)
                // 2 s idle: room for an echo through the Python endpoint on a loaded machine (the h1 and Python
                // idle cases send one first); the duration stays clear of it (the idle cases must end idle).
                .with("LIMITS", "{ websocket_idle_timeout: 2s, max_websocket_duration: 4s }")
                .with("EP", endpoint.address()).start();
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            relay.close();
        }
        if (endpoint != null) {
            endpoint.close();
        }
    }

    private static HttpClient http() {
        return HttpClient.newBuilder().sslContext(RelayHarness.certs().trustingSslContext()).build();
    }

    @Test
    void h1UpgradeOnARouteWithoutWebSocketsIs403() {
        try (HttpClient http = http()) {
            var f = http.newWebSocketBuilder().buildAsync(URI.create("wss://localhost:" + relay.tlsPort() + "/api/x"),
                    new WebSocketTest.Recorder());
            assertThat(f).failsWithin(Duration.ofSeconds(10)).withThrowableThat().havingRootCause()
                    .withMessageContaining("403");
        }
    }

    @ParameterizedTest
    @EnumSource(WebSocketStreamClient.Version.class)
    void extendedConnectOnARouteWithoutWebSocketsIs403(WebSocketStreamClient.Version v) throws Exception {
        try (WebSocketStreamClient c = WebSocketStreamClient.connect(v, relay.tlsPort(), RelayHarness.certs().caCert())) {
            assertThat(c.open("/api/x", "websocket", Map.of())).isEqualTo(403);
        }
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void aWebSocketOnlyRouteDoesNotTakePlainRequests(Proto proto) throws Exception {
        var res = relay.client(proto).send(java.net.http.HttpRequest.newBuilder(relay.uri(proto, "/live/feed")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(res.body()).as("fell through to the catch-all route").isEqualTo("plain");
    }

    @Test
    void h1IdleWebSocketIsClosedAfterTheIdleTimeout() throws Exception {
        try (HttpClient http = http()) {
            WebSocketTest.Recorder rec = new WebSocketTest.Recorder();
            long start = System.nanoTime();
            WebSocket ws = http.newWebSocketBuilder().buildAsync(
                    URI.create("wss://localhost:" + relay.tlsPort() + "/live/idle-h1"), rec).get(10, TimeUnit.SECONDS);
            ws.sendText("hi", true);
            assertThat(rec.texts.poll(5, TimeUnit.SECONDS)).isEqualTo("hi");
            Object how = CompletableFuture.anyOf(rec.closed, rec.error).get(10, TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
            assertThat(how).as("a Close frame of the proxy's, not an error").isEqualTo("1001 idle timeout");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.closed().stream().anyMatch(l -> l.startsWith("/live/idle-h1 ")));
    }

    @ParameterizedTest
    @EnumSource(WebSocketStreamClient.Version.class)
    void idleExtendedConnectIsEndedCleanlyAfterTheIdleTimeout(WebSocketStreamClient.Version v) throws Exception {
        String path = "/live/idle-" + v;
        try (WebSocketStreamClient c = WebSocketStreamClient.connect(v, relay.tlsPort(), RelayHarness.certs().caCert())) {
            assertThat(c.open(path, "websocket", Map.of())).isEqualTo(200);
            long start = System.nanoTime();
            CloseWebSocketFrame close = c.closeFrame(); // a Close frame of the proxy's, then END_STREAM / FIN
            assertThat(close.statusCode()).isEqualTo(1001);
            assertThat(close.reasonText()).isEqualTo("idle timeout");
            close.release();
            c.ended.get(10, TimeUnit.SECONDS);
            assertThat(c.reset).as("an orderly end, not a reset").isNotDone();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(1900));
            c.sendClose(1001, ""); // the client's answer, as a WebSocket client sends it; the proxy drops it
            c.endStream();
            c.closed.get(10, TimeUnit.SECONDS);
        }
        // The endpoint got a Close of the proxy's too (masked, as from a client): 1001, not 1006.
        await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.closed().contains(path + " 1001"));
    }

    /** Python websockets as the client (h1): the idle timeout reaches it as a Close 1001, not a 1006. */
    @Test
    void pythonClientSeesTheIdleTimeoutAsACloseFrame() {
        var r = PythonWebSockets.runClient("wss://localhost:" + relay.tlsPort() + "/live/py-idle", 3,
                RelayHarness.certs().caCertPath(), true);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdoutString()).contains("CLOSED 1001 idle timeout");
        await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.closed().contains("/live/py-idle 1001"));
    }

    @ParameterizedTest
    @EnumSource(WebSocketStreamClient.Version.class)
    void aBusyWebSocketEndsAtMaxWebsocketDuration(WebSocketStreamClient.Version v) throws Exception {
        MetricsScrape before = MetricsScrape.of(relay);
        String protocol = v == WebSocketStreamClient.Version.H2 ? "h2" : "h3";
        Map<String, String> labels = Map.of("listener", "tls", "protocol", protocol);
        try (WebSocketStreamClient c = WebSocketStreamClient.connect(v, relay.tlsPort(), RelayHarness.certs().caCert())) {
            assertThat(c.open("/live/busy", "websocket", Map.of())).isEqualTo(200);
            assertThat(MetricsScrape.of(relay).value("h3relay_websocket_sessions_active", labels)).isEqualTo(1);
            long start = System.nanoTime();
            int echoes = 0;
            // One message every 300 ms: never idle for the 2 s idle timeout, cut at the 4 s duration.
            while (!c.ended.isDone() && Duration.ofNanos(System.nanoTime() - start).toSeconds() < 10) {
                c.sendText("tick");
                if ("tick".equals(c.nextMessage(Duration.ofMillis(300)))) {
                    echoes++;
                }
                Thread.sleep(300); // the pace of the test's traffic, not a wait for a condition
            }
            assertThat(c.ended).isDone();
            CloseWebSocketFrame close = c.closeFrame();
            assertThat(close.statusCode()).isEqualTo(1001);
            assertThat(close.reasonText()).isEqualTo("max duration reached");
            close.release();
            Duration lived = Duration.ofNanos(System.nanoTime() - start);
            assertThat(lived).isBetween(Duration.ofMillis(3500), Duration.ofSeconds(7));
            assertThat(echoes).isGreaterThanOrEqualTo(4);
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            MetricsScrape after = MetricsScrape.of(relay);
            assertThat(after.value("h3relay_websocket_sessions_active", labels)).isZero();
            assertThat(after.value("h3relay_websocket_upgrades_total", labels)
                    - before.value("h3relay_websocket_upgrades_total", labels)).isEqualTo(1);
            assertThat(after.value("h3relay_websocket_bytes_total", Map.of("listener", "tls", "protocol", protocol,
                    "direction", "downstream")) - before.value("h3relay_websocket_bytes_total", Map.of("listener",
                    "tls", "protocol", protocol, "direction", "downstream"))).isGreaterThanOrEqualTo(4 * 6);
            assertThat(after.value("h3relay_downstream_requests_active", Map.of())).isZero();
        });
    }
}
