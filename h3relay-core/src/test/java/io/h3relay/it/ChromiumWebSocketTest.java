package io.h3relay.it;

import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.PythonWebSockets;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Headless Chromium, a client we did not write, opening {@code new WebSocket("wss://...")} from a page
 * served through h3relay: over HTTP/1.1 (a listener offering only http/1.1) and over HTTP/2 (Chromium
 * uses RFC 8441 on the page's h2 connection when the listener advertises SETTINGS_ENABLE_CONNECT_PROTOCOL).
 * The page reports 100 echoes in its DOM; the Python endpoint says which protocol the client spoke (Via).
 * Over HTTP/3 (RFC 9220) with Chromium's {@code EnableWebsocketsOverHttp3} feature flag; without it, what
 * Chromium does for a WebSocket on an h3 page is recorded. Also: Chromium's EventSource over h2 and h3.
 */
class ChromiumWebSocketTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    static PythonWebSockets.Endpoint wsEndpoint;
    static TestEndpoint sseEndpoint;
    static RelayHarness relay;
    @TempDir
    static Path tmp;

    /**
     * The WebSocket runs from an inline script while a slow script after it (6 s of /slow body from the
     * other endpoint) holds the parser, the load event and so Chromium (--dump-dom waits for load;
     * a WebSocket alone does not hold Chromium's virtual time, a pending script does).
     */
    private static final String WS_PAGE = """
            <!doctype html><html><body><p id="out">waiting</p><script>
            const out = document.getElementById('out');
            const ws = new WebSocket('wss://' + location.host + '/echo-' + location.search.substring(1));
            let n = 0;
            ws.onopen = () => ws.send('m0');
            ws.onmessage = (e) => {
              if (e.data !== 'm' + n) { out.textContent = 'bad echo ' + e.data; return; }
              n++;
              if (n < 100) { ws.send('m' + n); return; }
              const nav = performance.getEntriesByType('navigation')[0];
              out.textContent = 'echoes=' + n + ' page=' + nav.nextHopProtocol;
              ws.close(1000, 'done');
            };
            ws.onerror = () => { out.textContent = 'error after ' + n; };
            </script><script src="/slow?chunks=30&interval=200&size=10"></script></body></html>
            """;

    private static final String SSE_PAGE = """
            <!doctype html><html><body>waiting<script>
            addEventListener('load', () => {
              const es = new EventSource('/sse?events=5&interval=200');
              let n = 0;
              es.onmessage = () => {
                n++;
                if (n === 5) {
                  es.close();
                  const nav = performance.getEntriesByType('navigation')[0];
                  document.body.textContent = 'events=' + n + ' page=' + nav.nextHopProtocol;
                }
              };
              es.onerror = () => { if (n < 5) document.body.textContent = 'error after ' + n; };
            });
            </script></body></html>
            """;

    @BeforeAll
    static void start() {
        wsEndpoint = PythonWebSockets.startEndpoint();
        sseEndpoint = TestEndpoint.start("sse");
        relay = RelayHarness.yaml("""
                admin:
                  address: 127.0.0.1:0
                listeners:
                  - name: tls
                    address: 127.0.0.1:0
                    protocols: [http1, http2, http3]
                    tls: { certificate: "@CERT@", private_key: "@KEY@" }
                  - name: h1only
                    address: 127.0.0.1:0
                    protocols: [http1]
                    tls: { certificate: "@CERT@", private_key: "@KEY@" }
                shutdown: { drain_timeout: 2s }
                routes:
                  - name: ws-page
                    match: { path: /ws-page }
                    respond: { status: 200, body: "@WS_PAGE@", headers: { content-type: text/html } }
                  - name: sse-page
                    match: { path: /sse-page }
                    respond: { status: 200, body: "@SSE_PAGE@", headers: { content-type: text/html } }
                  - { name: sse, match: { path_prefix: /sse }, cluster: sse }
                  - { name: hold, match: { path_prefix: /slow }, cluster: sse }
                  - { name: ws, match: { path_prefix: /echo, websocket: true }, cluster: ws }
                clusters:
                  - { name: ws, endpoints: [ { address: "@WS@" } ] }
                  - { name: sse, endpoints: [ { address: "@SSE@" } ] }
                """).with("WS_PAGE", yamlString(WS_PAGE)).with("SSE_PAGE", yamlString(SSE_PAGE))
                .with("WS", wsEndpoint.address()).with("SSE", sseEndpoint.address()).start();
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            relay.close();
        }
        if (wsEndpoint != null) {
            wsEndpoint.close();
        }
        if (sseEndpoint != null) {
            sseEndpoint.close();
        }
    }

    /** The text as the inside of a double-quoted YAML scalar. */
    private static String yamlString(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static String upgradeOf(String tag) {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> wsEndpoint.upgrades().stream().anyMatch(u -> u.contains("\"/echo-" + tag + "\"")));
        List<String> ups = wsEndpoint.upgrades().stream().filter(u -> u.contains("\"/echo-" + tag + "\"")).toList();
        assertThat(ups).as("the endpoint saw the upgrade of " + tag).hasSize(1);
        return ups.get(0);
    }

    @Test
    void chromiumWebSocketOverHttp1() {
        int port = relay.server().listenerAddress("h1only").getPort();
        ExternalTool.Result r = chromium(port, "/ws-page?h1", false);
        assertThat(r.stdoutString()).as(log(r)).contains("echoes=100 page=http/1.1");
        assertThat(upgradeOf("h1")).contains("\"via\": \"1.1 h3relay\"");
    }

    @Test
    void chromiumWebSocketOverHttp2UsesExtendedConnect() {
        ExternalTool.Result r = chromium(relay.tlsPort(), "/ws-page?h2", false);
        assertThat(r.stdoutString()).as(log(r)).contains("echoes=100 page=h2");
        assertThat(upgradeOf("h2")).as("RFC 8441: the WebSocket went over the page's h2 connection")
                .contains("\"via\": \"2 h3relay\"");
    }

    /**
     * Chromium on an h3 page, without its RFC 9220 feature flag: what it does for a WebSocket is recorded,
     * not prescribed (Chromium 156 opens a TCP connection and does an HTTP/1.1 Upgrade: there is no h2
     * connection to reuse for RFC 8441); the echoes must work either way.
     */
    @Test
    void chromiumWebSocketFromAnHttp3Page() {
        ExternalTool.Result r = chromium(relay.tlsPort(), "/ws-page?h3", true);
        assertThat(r.stdoutString()).as(log(r)).contains("echoes=100 page=h3");
        String up = upgradeOf("h3");
        System.out.println("Chromium's WebSocket from an h3 page arrived with: "
                + up.replaceAll(".*\"via\": \"([^\"]*)\".*", "via $1"));
        assertThat(up).containsAnyOf("\"via\": \"3 h3relay\"", "\"via\": \"2 h3relay\"", "\"via\": \"1.1 h3relay\"");
    }

    /**
     * Chromium's RFC 9220 support is behind a feature flag ({@code EnableWebsocketsOverHttp3}, disabled by
     * default up to at least Chromium 156): with it, on a page served over h3, the WebSocket is an extended
     * CONNECT over HTTP/3 (the endpoint sees {@code Via: 3 h3relay}) and the 100 echoes come back.
     */
    @Test
    void chromiumWebSocketOverHttp3WithItsFeatureFlag() {
        ExternalTool.Result r = chromium(relay.tlsPort(), "/ws-page?h3flag", true, "--enable-features=EnableWebsocketsOverHttp3");
        assertThat(r.stdoutString()).as(log(r)).contains("echoes=100 page=h3");
        String up = upgradeOf("h3flag");
        System.out.println("Chromium's WebSocket with EnableWebsocketsOverHttp3 arrived with: "
                + up.replaceAll(".*\"via\": \"([^\"]*)\".*", "via $1"));
        assertThat(up).as("RFC 9220: the WebSocket went over the page's h3 connection").contains("\"via\": \"3 h3relay\"");
    }

    @Test
    void chromiumEventSourceOverHttp2() {
        ExternalTool.Result r = chromium(relay.tlsPort(), "/sse-page", false);
        assertThat(r.stdoutString()).as(log(r)).contains("events=5 page=h2");
    }

    @Test
    void chromiumEventSourceOverHttp3() {
        ExternalTool.Result r = chromium(relay.tlsPort(), "/sse-page", true);
        assertThat(r.stdoutString()).as(log(r)).contains("events=5 page=h3");
    }

    /** Headless Chromium on https://localhost:PORT{path} (forced onto QUIC when {@code quic}); the DOM after load. */
    private static ExternalTool.Result chromium(int port, String path, boolean quic, String... extraFlags) {
        Path chromium = ExternalTool.require("chromium");
        List<String> cmd = new java.util.ArrayList<>(List.of(chromium.toString(),
                "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + tmp.resolve("chromium-" + port + "-" + path.hashCode() + "-" + quic),
                "--host-resolver-rules=MAP localhost 127.0.0.1",
                "--ignore-certificate-errors-spki-list=" + RelayHarness.certs().spkiSha256Base64(),
                "--virtual-time-budget=15000"));
        if (quic) {
            cmd.add("--enable-quic");
            cmd.add("--origin-to-force-quic-on=localhost:" + port);
        }
        cmd.addAll(List.of(extraFlags));
        cmd.add("--dump-dom");
        cmd.add("https://localhost:" + port + path);
        ExternalTool.Result r = ExternalTool.run(TIMEOUT, cmd);
        assertThat(r.exitCode()).as(log(r)).isZero();
        return r;
    }

    private static String log(ExternalTool.Result r) {
        return r.stdoutString() + "\n" + r.stderr().lines().filter(l -> !l.contains("dbus") && !l.contains("D-Bus"))
                .limit(40).reduce("", (a, b) -> a + "\n" + b);
    }
}
