package io.h3relay.it;

import io.h3relay.testing.Http2TestEndpoint;
import io.h3relay.testing.Nghttpx;
import io.h3relay.testing.PythonWebSockets;
import io.h3relay.testing.WebSocketStreamClient;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * WebSockets towards an endpoint that speaks HTTP/2: h3relay sends an extended CONNECT (RFC 8441) on an h2c
 * cluster, whatever the client spoke (h1 Upgrade, h2 extended CONNECT, h3 extended CONNECT). The h2 endpoint
 * is nghttpx (nghttp2's proxy, whose h2 frontend implements RFC 8441 and advertises
 * SETTINGS_ENABLE_CONNECT_PROTOCOL) in front of Python {@code websockets}; neither is ours. nghttpx adds
 * its {@code Via} entry naming the protocol it received ({@code 2 nghttpx}), which shows the hop was h2.
 * An h2 endpoint that does not advertise the setting (the suite's Http2TestEndpoint) gets no stream: the
 * client is answered 502 saying why.
 */
class WebSocketH2UpstreamTest {
    @TempDir
    static Path dir;
    static PythonWebSockets.Endpoint endpoint;
    static Nghttpx nghttpx;
    static Http2TestEndpoint plainH2;
    static RelayHarness relay;

    enum Client { H1, H2, H3 }

    @BeforeAll
    static void start() {
        endpoint = PythonWebSockets.startEndpoint();
        nghttpx = Nghttpx.startH2c(dir, endpoint.address());
        plainH2 = Http2TestEndpoint.startH2c(100);
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: plain-h2, match: { path_prefix: /no-connect }, cluster: plain }
                  - { name: all, match: { path_prefix: / }, cluster: h2 }
                clusters:
                  - { name: h2, protocol: h2c, endpoints: [ { address: "@NGHTTPX@" } ] }
                  - { name: plain, protocol: h2c, endpoints: [ { address: "@PLAIN@" } ] }
                """).with("LIMITS", "{ websocket_idle_timeout: 2s }").with("NGHTTPX", nghttpx.address()).with("PLAIN", plainH2.address())
                .start();
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {relay, plainH2, nghttpx, endpoint}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // the others still close
            }
        }
    }

    private static String upgradeOf(String path) {
        String needle = "\"path\": \"" + path + "\"";
        await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.upgrades().stream().anyMatch(u -> u.contains(needle)));
        List<String> u = endpoint.upgrades().stream().filter(x -> x.contains(needle)).toList();
        return u.get(u.size() - 1);
    }

    @ParameterizedTest
    @EnumSource(Client.class)
    void echoesAHundredMessagesThroughAnH2Endpoint(Client client) throws Exception {
        String path = "/echo-h2up-" + client.name().toLowerCase();
        if (client == Client.H1) {
            var r = PythonWebSockets.runClient("wss://localhost:" + relay.tlsPort() + path, 100,
                    RelayHarness.certs().caCertPath());
            assertThat(r.exitCode()).as(r + "\nnghttpx: " + nghttpx.log()).isZero();
            assertThat(r.stdoutString()).contains("OK 100 1000");
        } else {
            var v = client == Client.H2 ? WebSocketStreamClient.Version.H2 : WebSocketStreamClient.Version.H3;
            try (WebSocketStreamClient c = WebSocketStreamClient.connect(v, relay.tlsPort(), RelayHarness.certs().caCert())) {
                assertThat(c.open(path, "websocket", Map.of())).as(nghttpx.log()).isEqualTo(200);
                for (int i = 0; i < 100; i++) {
                    c.sendText("m" + i);
                    assertThat(c.nextMessage(Duration.ofSeconds(5))).isEqualTo("m" + i);
                }
                c.sendClose(1000, "done");
                CloseWebSocketFrame close = c.closeFrame();
                assertThat(close.statusCode()).isEqualTo(1000);
                close.release();
                c.ended.get(10, TimeUnit.SECONDS);
                c.endStream();
                c.closed.get(10, TimeUnit.SECONDS);
                assertThat(c.reset).as("closed by both ends, not reset").isNotDone();
            }
        }
        String clientVia = switch (client) {
            case H1 -> "1.1";
            case H2 -> "2";
            case H3 -> "3";
        };
        // h3relay's Via names the client's protocol; nghttpx appends its own, naming the h2 it received.
        assertThat(upgradeOf(path)).contains("\"upgrade\": \"websocket\"")
                .containsPattern("\"via\": \"" + clientVia + " h3relay, 2 nghttpx\"");
        await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.closed().contains(path + " 1000"));
    }

    /**
     * The idle timeout ends the session with a Close 1001 each way: towards the endpoint it is a masked frame
     * in an h2 DATA frame, which nghttpx relays to Python websockets (which records 1001, not 1006).
     */
    @ParameterizedTest
    @EnumSource(Client.class)
    void theIdleTimeoutClosesBothSidesWith1001(Client client) throws Exception {
        String path = "/idle-h2up-" + client.name().toLowerCase();
        if (client == Client.H1) {
            var r = PythonWebSockets.runClient("wss://localhost:" + relay.tlsPort() + path, 2,
                    RelayHarness.certs().caCertPath(), true);
            assertThat(r.stdoutString()).as(r.toString()).contains("CLOSED 1001 idle timeout");
        } else {
            var v = client == Client.H2 ? WebSocketStreamClient.Version.H2 : WebSocketStreamClient.Version.H3;
            try (WebSocketStreamClient c = WebSocketStreamClient.connect(v, relay.tlsPort(), RelayHarness.certs().caCert())) {
                assertThat(c.open(path, "websocket", Map.of())).isEqualTo(200);
                c.sendText("one");
                assertThat(c.nextMessage(Duration.ofSeconds(5))).isEqualTo("one");
                CloseWebSocketFrame close = c.closeFrame();
                assertThat(close.statusCode()).isEqualTo(1001);
                assertThat(close.reasonText()).isEqualTo("idle timeout");
                close.release();
                c.ended.get(10, TimeUnit.SECONDS);
                assertThat(c.reset).isNotDone();
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.closed().contains(path + " 1001"));
    }

    @ParameterizedTest
    @EnumSource(Client.class)
    void anH2EndpointWithoutExtendedConnectIsABadGateway(Client client) throws Exception {
        int streamsBefore = plainH2.streams();
        if (client == Client.H1) {
            try (HttpClient http = HttpClient.newBuilder().sslContext(RelayHarness.certs().trustingSslContext()).build()) {
                var f = http.newWebSocketBuilder().buildAsync(
                        URI.create("wss://localhost:" + relay.tlsPort() + "/no-connect"), new WebSocket.Listener() { });
                assertThat(f).failsWithin(Duration.ofSeconds(10)).withThrowableThat()
                        .havingRootCause().withMessageContaining("status code 502");
            }
        } else {
            var v = client == Client.H2 ? WebSocketStreamClient.Version.H2 : WebSocketStreamClient.Version.H3;
            try (WebSocketStreamClient c = WebSocketStreamClient.connect(v, relay.tlsPort(), RelayHarness.certs().caCert())) {
                assertThat(c.open("/no-connect", "websocket", Map.of())).isEqualTo(502);
            }
        }
        assertThat(plainH2.streams()).as("no stream opened at an endpoint that did not allow it").isEqualTo(streamsBefore);
    }
}
