package io.h3relay.it;

import io.h3relay.testing.PythonWebSockets;
import io.h3relay.testing.WebSocketStreamClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A drain lets open WebSockets (h1, h2, h3) run until {@code shutdown.drain_timeout}, then closes them with
 * their connections; the stop returns right after.
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

            long t0 = System.nanoTime();
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> relay.server().stop());

            Thread.sleep(1000); // into the drain: the sessions must still work (the pace of the test, not a wait)
            h1.sendText("still here", true).get(5, TimeUnit.SECONDS);
            assertThat(rec.texts.poll(5, TimeUnit.SECONDS)).isEqualTo("still here");
            h2.sendText("still here");
            assertThat(h2.nextMessage(Duration.ofSeconds(5))).isEqualTo("still here");
            h3.sendText("still here");
            assertThat(h3.nextMessage(Duration.ofSeconds(5))).isEqualTo("still here");

            CompletableFuture.anyOf(rec.closed, rec.error).get(10, TimeUnit.SECONDS);
            h2.closed.get(10, TimeUnit.SECONDS);
            h3.closed.get(10, TimeUnit.SECONDS);
            Duration ended = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(ended).as("closed at the drain timeout (3 s), not before").isBetween(Duration.ofMillis(2800),
                    Duration.ofSeconds(9));
            stopping.get(10, TimeUnit.SECONDS);
        }
    }
}
