package io.h3relay.it;

import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.PythonWebSockets;
import io.h3relay.testing.WebSocketStreamClient;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A drain lets open WebSockets (h1, h2, h3) run until {@code shutdown.drain_timeout}; shortly before it, each
 * gets a Close frame (1001 "proxy shutting down") both ways and an orderly end, then the connections close;
 * the stop returns right after.
 */
class WebSocketDrainTest {
    static PythonWebSockets.Endpoint endpoint;
    static RelayHarness relay;

    @BeforeAll
    static void start() {
        endpoint = PythonWebSockets.startEndpoint();
        relay = RelayHarness.yaml(RelayHarness.LISTENERS.replace("drain_timeout: 2s", "drain_timeout: 3s") + """
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                """).with("LIMITS", "{}").with("EP", endpoint.address()).start();
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

    @Test
    void webSocketsRunThroughTheDrainAndCloseAtItsTimeout() throws Exception {
        try (HttpClient http = HttpClient.newBuilder().sslContext(RelayHarness.certs().trustingSslContext()).build();
             WebSocketStreamClient h2 = WebSocketStreamClient.connect(WebSocketStreamClient.Version.H2, relay.tlsPort(),
                     RelayHarness.certs().caCert());
             WebSocketStreamClient h3 = WebSocketStreamClient.connect(WebSocketStreamClient.Version.H3, relay.tlsPort(),
                     RelayHarness.certs().caCert())) {
            WebSocketTest.Recorder rec = new WebSocketTest.Recorder();
            WebSocket h1 = http.newWebSocketBuilder().buildAsync(
                    URI.create("wss://localhost:" + relay.tlsPort() + "/drain-h1"), rec).get(10, TimeUnit.SECONDS);
            assertThat(h2.open("/drain-h2", "websocket", Map.of())).isEqualTo(200);
            assertThat(h3.open("/drain-h3", "websocket", Map.of())).isEqualTo(200);
            // Python websockets (h1) too: one echo, then it waits for the close and prints its code.
            CompletableFuture<ExternalTool.Result> python = CompletableFuture.supplyAsync(() -> PythonWebSockets.runClient(
                    "wss://localhost:" + relay.tlsPort() + "/drain-py", 1, RelayHarness.certs().caCertPath(), true),
                    r -> Thread.ofPlatform().daemon().start(r)); // not the common pool: the stop runs there
            await().atMost(Duration.ofSeconds(20)).until(() -> endpoint.upgrades().stream()
                    .anyMatch(u -> u.contains("\"path\": \"/drain-py\"")));

            long t0 = System.nanoTime();
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> relay.server().stop());

            Thread.sleep(1000); // into the drain: the sessions must still work (the pace of the test, not a wait)
            h1.sendText("still here", true).get(5, TimeUnit.SECONDS);
            assertThat(rec.texts.poll(5, TimeUnit.SECONDS)).isEqualTo("still here");
            h2.sendText("still here");
            assertThat(h2.nextMessage(Duration.ofSeconds(5))).isEqualTo("still here");
            h3.sendText("still here");
            assertThat(h3.nextMessage(Duration.ofSeconds(5))).isEqualTo("still here");

            // Each client gets a Close frame of the proxy's (1001) shortly before the drain timeout, not a cut.
            assertThat(CompletableFuture.anyOf(rec.closed, rec.error).get(10, TimeUnit.SECONDS))
                    .isEqualTo("1001 proxy shutting down");
            for (WebSocketStreamClient c : List.of(h2, h3)) {
                CloseWebSocketFrame close = c.closeFrame();
                assertThat(close.statusCode()).isEqualTo(1001);
                assertThat(close.reasonText()).isEqualTo("proxy shutting down");
                close.release();
                c.ended.get(10, TimeUnit.SECONDS);
                assertThat(c.reset).as("an orderly end").isNotDone();
            }
            Duration ended = Duration.ofNanos(System.nanoTime() - t0);
            // At the drain timeout (3 s) less the lead kept for the close handshake (a tenth of it): not before.
            assertThat(ended).as("closed at the drain timeout, not before").isBetween(Duration.ofMillis(2500),
                    Duration.ofSeconds(9));
            ExternalTool.Result py = python.get(20, TimeUnit.SECONDS);
            assertThat(py.stdoutString()).as(py.toString()).contains("CLOSED 1001 proxy shutting down");
            h2.closed.get(10, TimeUnit.SECONDS);
            h3.closed.get(10, TimeUnit.SECONDS);
            stopping.get(10, TimeUnit.SECONDS);
            // The endpoint got the proxy's Close for each session (1001), not a dropped connection (1006).
            for (String path : List.of("/drain-h1", "/drain-h2", "/drain-h3", "/drain-py")) {
                await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.closed().contains(path + " 1001"));
            }
        }
    }
}
