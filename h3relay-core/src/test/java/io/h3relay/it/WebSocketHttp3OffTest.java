package io.h3relay.it;

import io.h3relay.server.RelayServer;
import io.h3relay.testing.PythonWebSockets;
import io.h3relay.testing.WebSocketStreamClient;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * HTTP/3 turned off at runtime (admin {@code POST /listeners/{name}/http3?enabled=false}) under an open
 * WebSocket over HTTP/3 (RFC 9220): the session goes on through the QUIC connection's drain and, shortly
 * before {@code shutdown.drain_timeout}, gets a Close frame of the proxy's both ways (1001 "http3 turned
 * off") and an orderly end, as at the end of a drain, instead of being cut with its connection. A WebSocket
 * over h2 on the same listener is not touched.
 */
class WebSocketHttp3OffTest {
    PythonWebSockets.Endpoint endpoint;
    RelayHarness relay;

    @BeforeEach
    void start() {
        endpoint = PythonWebSockets.startEndpoint();
        relay = RelayHarness.yaml(RelayHarness.LISTENERS.replace("drain_timeout: 2s", "drain_timeout: 3s") + """
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                """).with("LIMITS", "{}").with("EP", endpoint.address()).start();
    }

    @AfterEach
    void stop() {
        if (relay != null) {
            relay.close();
        }
        if (endpoint != null) {
            endpoint.close();
        }
    }

    @Test
    void aWebSocketOverH3GetsClose1001WhenHttp3IsTurnedOff() throws Exception {
        try (WebSocketStreamClient h2 = WebSocketStreamClient.connect(WebSocketStreamClient.Version.H2, relay.tlsPort(),
                     RelayHarness.certs().caCert());
             WebSocketStreamClient h3 = WebSocketStreamClient.connect(WebSocketStreamClient.Version.H3, relay.tlsPort(),
                     RelayHarness.certs().caCert());
             HttpClient admin = HttpClient.newHttpClient()) {
            assertThat(h2.open("/off-h2", "websocket", Map.of())).isEqualTo(200);
            assertThat(h3.open("/off-h3", "websocket", Map.of())).isEqualTo(200);

            long t0 = System.nanoTime();
            HttpResponse<String> off = admin.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + relay.server().adminAddress().getPort() + "/listeners/tls/http3?enabled=false"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(off.statusCode()).as(off.body()).isEqualTo(200);
            assertThat(relay.server().http3Enabled("tls")).isFalse();

            // Still relayed while the QUIC connection drains.
            h3.sendText("still here");
            assertThat(h3.nextMessage(Duration.ofSeconds(5))).isEqualTo("still here");

            CloseWebSocketFrame close = h3.closeFrame();
            assertThat(close.statusCode()).as("the proxy's Close, not a cut").isEqualTo(1001);
            assertThat(close.reasonText()).isEqualTo("http3 turned off");
            close.release();
            h3.ended.get(10, TimeUnit.SECONDS);
            assertThat(h3.reset).as("an orderly end of the stream").isNotDone();
            Duration ended = Duration.ofNanos(System.nanoTime() - t0);
            // At the drain timeout (3 s) less the lead kept for the close handshake (a tenth): not before.
            assertThat(ended).as("closed near the drain timeout, not before").isBetween(Duration.ofMillis(2500),
                    Duration.ofSeconds(9));
            h3.closed.get(10, TimeUnit.SECONDS);
            // The endpoint got the proxy's Close for the h3 session (1001), not a dropped connection (1006).
            await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.closed().contains("/off-h3 1001"));

            // The h2 WebSocket on the same listener goes on.
            assertThat(endpoint.closed()).noneMatch(l -> l.startsWith("/off-h2 "));
            h2.sendText("h2 unaffected");
            assertThat(h2.nextMessage(Duration.ofSeconds(5))).isEqualTo("h2 unaffected");
            assertThat(h2.ended).isNotDone();

            // The UDP sockets close once the QUIC connection is gone; h3 can be turned on again.
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> relay.server().http3("tls", true)
                    == RelayServer.Http3Toggle.TURNED_ON || relay.server().http3Enabled("tls"));
        }
    }
}
