package io.h3relay.it;

import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.NodeWs;
import io.h3relay.testing.PythonWebSockets;
import io.h3relay.testing.WebSocketStreamClient;
import io.h3relay.upstream.UpstreamPool;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * WebSockets through h3relay to a Python {@code websockets} endpoint: an HTTP/1.1 Upgrade (Python and
 * Java's HttpClient as clients), an h2 extended CONNECT (RFC 8441) and an h3 one (RFC 9220) through the
 * suite's stream client. Each case checks the echoes, how each side's close or reset reaches the other,
 * and that nothing is left behind: the active-request gauge and the upstream pool go back to zero (a
 * tunnel's connection is never pooled).
 */
class WebSocketTest {
    static PythonWebSockets.Endpoint endpoint;
    static RelayHarness relay;

    @BeforeAll
    static void start() {
        endpoint = PythonWebSockets.startEndpoint();
        relay = RelayHarness.singleCluster(endpoint.address(), "{}");
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

    @AfterEach
    void nothingLeftBehind() {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
            MetricsScrape m = MetricsScrape.of(relay);
            assertThat(m.value("h3relay_downstream_requests_active", Map.of())).as("active requests").isZero();
            assertThat(pool().connectionCount()).as("upstream connections (a tunnel's is never pooled)").isZero();
        });
    }

    private static UpstreamPool pool() {
        var cluster = relay.server().clusters().get("c");
        return cluster.pool(cluster.endpoints().get(0));
    }

    /** The endpoint's record of the handshake for {@code path} (its stdout is read by a thread: waited for). */
    private static String upgradeOf(String path) {
        String needle = "\"path\": \"" + path + "\"";
        await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.upgrades().stream().anyMatch(u -> u.contains(needle)));
        List<String> u = endpoint.upgrades().stream().filter(x -> x.contains(needle)).toList();
        return u.get(u.size() - 1);
    }

    // ---- HTTP/1.1 Upgrade ------------------------------------------------------------------------

    @Test
    void pythonClientOverTlsH1EchoesAHundredMessages() {
        ExternalTool.Result r = PythonWebSockets.runClient("wss://localhost:" + relay.tlsPort() + "/echo", 100,
                RelayHarness.certs().caCertPath());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdoutString()).contains("OK 100 1000");
        assertThat(upgradeOf("/echo")).contains("\"upgrade\": \"websocket\"")
                .contains("x-forwarded-proto\": \"https\"").contains("via\": \"1.1 h3relay\"");
    }

    @Test
    void pythonClientOverPlaintextH1ListenerWithH2c() {
        // The plaintext listener also takes Upgrade: h2c; a websocket upgrade must pass that handler.
        ExternalTool.Result r = PythonWebSockets.runClient("ws://localhost:" + relay.plainPort() + "/echo-plain", 20,
                null);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdoutString()).contains("OK 20 1000");
    }

    /** Node's own WebSocket client (undici's, behind --experimental-websocket in Node 20): 100 echoes over h1. */
    @Test
    void nodeClientEchoesAHundredMessages() {
        java.nio.file.Path node = ExternalTool.require("node");
        String script = """
                const ws = new WebSocket(process.argv[1]);
                let n = 0;
                const timer = setTimeout(() => { console.log('timeout after ' + n); process.exit(2); }, 20000);
                ws.onopen = () => ws.send('n0');
                ws.onmessage = (e) => {
                  if (e.data !== 'n' + n) { console.log('bad echo ' + e.data); process.exit(3); }
                  n++;
                  if (n < 100) ws.send('n' + n); else ws.close(1000);
                };
                ws.onclose = (e) => { clearTimeout(timer); console.log('OK ' + n + ' ' + e.code); };
                ws.onerror = (e) => { console.log('error ' + e.message); process.exit(4); };
                """;
        ProcessBuilder pb = new ProcessBuilder(node.toString(), "--experimental-websocket", "--no-warnings", "-e", script,
                "wss://localhost:" + relay.tlsPort() + "/echo-node");
        pb.environment().put("NODE_EXTRA_CA_CERTS", RelayHarness.certs().caCertPath().toString());
        pb.redirectErrorStream(true);
        try {
            Process p = pb.start();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(out).contains("OK 100 1000");
        } catch (java.io.IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
        assertThat(upgradeOf("/echo-node")).contains("\"via\": \"1.1 h3relay\"");
    }

    /** Node's {@code ws} library (npm, bench/node) as the client: 100 echoes over h1 with TLS, and plaintext. */
    @Test
    void nodeWsLibraryClientEchoesAHundredMessages() {
        ExternalTool.Result r = NodeWs.runClient("wss://localhost:" + relay.tlsPort() + "/echo-ws-lib", 100,
                RelayHarness.certs().caCertPath());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdoutString()).contains("OK 100 1000");
        assertThat(upgradeOf("/echo-ws-lib")).contains("\"via\": \"1.1 h3relay\"");
        ExternalTool.Result plain = NodeWs.runClient("ws://localhost:" + relay.plainPort() + "/echo-ws-lib-plain", 20, null);
        assertThat(plain.stdoutString()).as(plain.toString()).contains("OK 20 1000");
        await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.closed().contains("/echo-ws-lib 1000"));
    }

    @Test
    void javaHttpClientWebSocketEchoAndEndpointClose() throws Exception {
        try (HttpClient http = HttpClient.newBuilder().sslContext(RelayHarness.certs().trustingSslContext()).build()) {
            Recorder rec = new Recorder();
            WebSocket ws = http.newWebSocketBuilder().buildAsync(
                    URI.create("wss://localhost:" + relay.tlsPort() + "/echo-java"), rec).get(10, TimeUnit.SECONDS);
            for (int i = 0; i < 50; i++) {
                ws.sendText("hello " + i, true).get(5, TimeUnit.SECONDS);
                assertThat(rec.texts.poll(5, TimeUnit.SECONDS)).isEqualTo("hello " + i);
            }
            ws.sendText("close", true); // the endpoint closes with 4000 "bye"
            assertThat(rec.closed.get(10, TimeUnit.SECONDS)).isEqualTo("4000 bye");
            // Java's WebSocket answers the close itself once onClose's stage completes (which may already
            // have happened: then this fails with "Output closed"); either way the endpoint's handshake ends.
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").handle((w, e) -> null).get(5, TimeUnit.SECONDS);
        }
        // (The code the endpoint records is the one of the client's answer, the JDK's choice.)
        await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.closed().stream()
                .anyMatch(l -> l.startsWith("/echo-java ")));
    }

    /**
     * Plaintext h1 both ways, where the relay sends each read at once when nothing waits (DirectSend): large
     * messages fill the sockets' buffers (partial sends, the rest queued), small ones follow back to back;
     * every echo comes back whole and in order.
     */
    @Test
    void plaintextH1RelaysLargeAndBackToBackMessagesInOrder() throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            Recorder rec = new Recorder();
            WebSocket ws = http.newWebSocketBuilder().buildAsync(
                    URI.create("ws://localhost:" + relay.plainPort() + "/bulk-plain"), rec).get(10, TimeUnit.SECONDS);
            List<String> sent = new java.util.ArrayList<>();
            for (int i = 0; i < 6; i++) {
                sent.add(i + ":" + String.valueOf((char) ('a' + i)).repeat(1 << 20)); // 1 MiB each
            }
            for (int i = 0; i < 300; i++) {
                sent.add("m" + i);
            }
            for (String m : sent) {
                ws.sendText(m, true).get(10, TimeUnit.SECONDS); // the next send waits for this one, not its echo
            }
            for (String m : sent) {
                String echo = rec.texts.poll(20, TimeUnit.SECONDS);
                assertThat(echo).as("an echo, in order").isNotNull();
                assertThat(echo.length()).isEqualTo(m.length());
                assertThat(echo).isEqualTo(m);
            }
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
            assertThat(rec.closed.get(10, TimeUnit.SECONDS)).startsWith("1000");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.closed().contains("/bulk-plain 1000"));
    }

    @Test
    void h1EndpointAbortReachesTheClient() throws Exception {
        try (HttpClient http = HttpClient.newBuilder().sslContext(RelayHarness.certs().trustingSslContext()).build()) {
            Recorder rec = new Recorder();
            WebSocket ws = http.newWebSocketBuilder().buildAsync(
                    URI.create("wss://localhost:" + relay.tlsPort() + "/echo-abort"), rec).get(10, TimeUnit.SECONDS);
            ws.sendText("abort", true);
            // No close frame: the connection just ends (an error or a close without status, depending on timing).
            CompletableFuture<Object> either = CompletableFuture.anyOf(rec.closed, rec.error);
            Object how = either.get(10, TimeUnit.SECONDS);
            assertThat(String.valueOf(how)).doesNotContain("4000");
        }
    }

    @Test
    void h1ClientVanishingClosesTheEndpointConnection() throws Exception {
        int closedBefore = endpoint.closed().size();
        HttpClient http = HttpClient.newBuilder().sslContext(RelayHarness.certs().trustingSslContext()).build();
        Recorder rec = new Recorder();
        WebSocket ws = http.newWebSocketBuilder().buildAsync(
                URI.create("wss://localhost:" + relay.tlsPort() + "/echo-vanish"), rec).get(10, TimeUnit.SECONDS);
        ws.sendText("x", true).get(5, TimeUnit.SECONDS);
        assertThat(rec.texts.poll(5, TimeUnit.SECONDS)).isEqualTo("x");
        ws.abort(); // closes the TCP connection without a close frame
        http.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.closed().stream()
                .skip(closedBefore).anyMatch(l -> l.startsWith("/echo-vanish ")));
        assertThat(endpoint.closed().stream().filter(l -> l.startsWith("/echo-vanish ")).findFirst().orElseThrow())
                .as("no close frame reached the endpoint: 1006").endsWith(" 1006");
    }

    @Test
    void h1UpgradeRefusedByTheEndpointIsAnOrdinaryResponse() throws Exception {
        try (HttpClient http = HttpClient.newBuilder().sslContext(RelayHarness.certs().trustingSslContext()).build()) {
            var f = http.newWebSocketBuilder().buildAsync(
                    URI.create("wss://localhost:" + relay.tlsPort() + "/forbidden"), new Recorder());
            assertThat(f).failsWithin(Duration.ofSeconds(10)).withThrowableThat()
                    .havingRootCause().withMessageContaining("status code 403");
        }
    }

    // ---- h2 (RFC 8441) and h3 (RFC 9220) extended CONNECT -----------------------------------------

    @ParameterizedTest
    @EnumSource(WebSocketStreamClient.Version.class)
    void extendedConnectEchoesAndClosesCleanly(WebSocketStreamClient.Version v) throws Exception {
        try (WebSocketStreamClient c = WebSocketStreamClient.connect(v, relay.tlsPort(), RelayHarness.certs().caCert())) {
            assertThat(c.serverEnablesConnectProtocol()).as("SETTINGS_ENABLE_CONNECT_PROTOCOL").isTrue();
            assertThat(c.open("/ws-" + v + "?q=1", "websocket", Map.of("origin", "https://localhost"))).isEqualTo(200);
            assertThat(c.responseHeaders()).doesNotContainKey("sec-websocket-accept").doesNotContainKey("upgrade");
            String up = upgradeOf("/ws-" + v + "?q=1");
            assertThat(up).contains("\"upgrade\": \"websocket\"")
                    .contains("sec-websocket-key").contains("\"origin\": \"https://localhost\"")
                    .contains("via\": \"" + (v == WebSocketStreamClient.Version.H2 ? "2" : "3") + " h3relay\"");
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                c.sendText("m" + i);
                got.add(c.nextMessage(Duration.ofSeconds(5)));
            }
            assertThat(got).hasSize(100).first().isEqualTo("m0");
            assertThat(got.get(99)).isEqualTo("m99");
            c.sendClose(1000, "done");
            CloseWebSocketFrame close = c.closeFrame();
            assertThat(close.statusCode()).isEqualTo(1000);
            close.release();
            c.ended.get(10, TimeUnit.SECONDS); // the endpoint closed its TCP connection: END_STREAM / FIN
            assertThat(c.reset).isNotDone();
            c.endStream();
            c.closed.get(10, TimeUnit.SECONDS);
            assertThat(c.reset).as("closed by both ends, not reset").isNotDone();
        }
    }

    @ParameterizedTest
    @EnumSource(WebSocketStreamClient.Version.class)
    void endpointCloseReachesTheClient(WebSocketStreamClient.Version v) throws Exception {
        try (WebSocketStreamClient c = WebSocketStreamClient.connect(v, relay.tlsPort(), RelayHarness.certs().caCert())) {
            assertThat(c.open("/echo", "websocket", Map.of())).isEqualTo(200);
            c.sendText("close");
            CloseWebSocketFrame close = c.closeFrame();
            assertThat(close.statusCode()).isEqualTo(4000);
            assertThat(close.reasonText()).isEqualTo("bye");
            close.release();
            c.sendClose(4000, ""); // a client answers the close frame; the endpoint then closes its connection
            c.ended.get(10, TimeUnit.SECONDS);
            c.endStream();
            c.closed.get(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @EnumSource(WebSocketStreamClient.Version.class)
    void endpointAbortResetsTheStream(WebSocketStreamClient.Version v) throws Exception {
        try (WebSocketStreamClient c = WebSocketStreamClient.connect(v, relay.tlsPort(), RelayHarness.certs().caCert())) {
            assertThat(c.open("/echo", "websocket", Map.of())).isEqualTo(200);
            c.sendText("abort");
            assertThat(c.reset.get(10, TimeUnit.SECONDS)).isNotBlank();
            assertThat(c.ended).as("a reset, not a clean end").isNotDone();
        }
    }

    @ParameterizedTest
    @EnumSource(WebSocketStreamClient.Version.class)
    void clientResetClosesTheEndpointConnection(WebSocketStreamClient.Version v) throws Exception {
        String path = "/echo-reset-" + v;
        try (WebSocketStreamClient c = WebSocketStreamClient.connect(v, relay.tlsPort(), RelayHarness.certs().caCert())) {
            assertThat(c.open(path, "websocket", Map.of())).isEqualTo(200);
            c.sendText("x");
            assertThat(c.nextMessage(Duration.ofSeconds(5))).isEqualTo("x");
            c.resetStream();
            await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.closed().stream()
                    .anyMatch(l -> l.startsWith(path + " ")));
            assertThat(endpoint.closed().stream().filter(l -> l.startsWith(path + " ")).findFirst().orElseThrow())
                    .endsWith(" 1006");
        }
    }

    @ParameterizedTest
    @EnumSource(WebSocketStreamClient.Version.class)
    void clientHalfCloseReachesTheEndpoint(WebSocketStreamClient.Version v) throws Exception {
        try (WebSocketStreamClient c = WebSocketStreamClient.connect(v, relay.tlsPort(), RelayHarness.certs().caCert())) {
            assertThat(c.open("/echo-half", "websocket", Map.of())).isEqualTo(200);
            c.sendText("before the end");
            assertThat(c.nextMessage(Duration.ofSeconds(5))).isEqualTo("before the end");
            c.endStream(); // the endpoint's connection gets a FIN: websockets closes it (1006, no close frame)
            c.ended.get(10, TimeUnit.SECONDS);
            c.closed.get(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @EnumSource(WebSocketStreamClient.Version.class)
    void upgradeRefusedByTheEndpointIsAnOrdinaryResponse(WebSocketStreamClient.Version v) throws Exception {
        try (WebSocketStreamClient c = WebSocketStreamClient.connect(v, relay.tlsPort(), RelayHarness.certs().caCert())) {
            assertThat(c.open("/forbidden", "websocket", Map.of())).isEqualTo(403);
            c.ended.get(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @EnumSource(WebSocketStreamClient.Version.class)
    void extendedConnectForAnotherProtocolIsRefused(WebSocketStreamClient.Version v) throws Exception {
        try (WebSocketStreamClient c = WebSocketStreamClient.connect(v, relay.tlsPort(), RelayHarness.certs().caCert())) {
            assertThat(c.open("/echo", "connect-udp", Map.of())).isEqualTo(405);
        }
    }

    /** Java's WebSocket listener, recording texts, the close and an error. */
    static final class Recorder implements WebSocket.Listener {
        final LinkedBlockingQueue<String> texts = new LinkedBlockingQueue<>();
        final CompletableFuture<String> closed = new CompletableFuture<>();
        final CompletableFuture<Throwable> error = new CompletableFuture<>();
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                texts.add(partial.toString());
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closed.complete(statusCode + " " + reason);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable e) {
            error.complete(e);
        }
    }
}
