package io.h3relay.it;

import io.h3relay.testing.Nginx;
import io.h3relay.testing.PythonWebSockets;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code protocol: http3} with {@code protocol_policy: or_lower} towards an endpoint that speaks only TCP
 * (nginx, {@code listen ... ssl http2}): every request succeeds over h2, the fallback metric counts, and
 * {@code /introspect} shows the endpoint h3-broken. Once the endpoint's UDP port gains HTTP/3 (a second
 * h3relay serving h3 only on that port number), traffic returns to h3 after the (short, test) back-off.
 * {@code exact} never falls back: a clear 502.
 */
class Http3FallbackTest {
    @TempDir
    Path nginxDir;
    Nginx nginx;
    RelayHarness relay;
    RelayHarness h3Endpoint;
    TestEndpoint sink;
    PythonWebSockets.Endpoint wsEndpoint;

    @AfterEach
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {relay, h3Endpoint, nginx, sink, wsEndpoint}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // best effort
                }
            }
        }
    }

    private void startNginx() {
        nginx = Nginx.start(nginxDir, """
                listen 127.0.0.1:@PORT@ ssl http2;
                server_name localhost;
                ssl_certificate %s;
                ssl_certificate_key %s;
                location / { return 200 "nginx $server_protocol"; }
                """.formatted(RelayHarness.certs().certPath(), RelayHarness.certs().keyPath()));
    }

    private RelayHarness relay(String policy) {
        int port = nginx.port();
        return RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: ep }
                clusters:
                  - name: ep
                    protocol: http3
                    protocol_policy: @POLICY@
                    connect_timeout: 1s
                    http3: { race_delay: 300ms, broken_backoff: 2s, broken_backoff_max: 4s }
                    endpoints: [ { address: "localhost:@PORT@" } ]
                    tls: { verify: true, ca: "@CA@" }
                """).with("LIMITS", "{}").with("POLICY", policy).with("PORT", port)
                .with("CA", RelayHarness.certs().caCertPath()).start();
    }

    private HttpResponse<String> get(Proto proto, String path) throws Exception {
        return relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, path)).timeout(Duration.ofSeconds(15))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private String introspect() throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + relay.server().adminAddress().getPort() + "/introspect")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    private double fallbacks() throws Exception {
        MetricsScrape m = MetricsScrape.of(relay);
        double sum = 0;
        for (String reason : new String[] {"h3_broken", "quic_failed", "quic_slow"}) {
            Double v = m.value("h3relay_upstream_protocol_fallbacks_total",
                    Map.of("cluster", "ep", "from", "h3", "to", "h2", "reason", reason));
            sum += v == null ? 0 : v;
        }
        return sum;
    }

    @Test
    void anEndpointWithoutQuicIsServedOverTcpAndGetsH3BackOnceItSpeaksIt() throws Exception {
        startNginx();
        int port = nginx.port();
        relay = relay("or_lower");
        int n = 0;
        for (int round = 0; round < 3; round++) {
            for (Proto proto : Proto.values()) {
                HttpResponse<String> res = get(proto, "/fallback?" + proto + round);
                assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
                assertThat(res.body()).isEqualTo("nginx HTTP/2.0");
                n++;
            }
        }
        assertThat(fallbacks()).isEqualTo(n);
        String state = introspect();
        assertThat(state).contains("\"h3_broken\":true").contains("\"known_protocols\":[\"h2\"]");

        // The endpoint gains HTTP/3: nginx makes way for a server on the same port number that speaks h2 over
        // TCP and h3 over UDP (a second h3relay in front of a test endpoint, whose Via shows what it received).
        // After the back-off the next requests race QUIC again, and QUIC wins.
        nginx.close();
        nginx = null;
        sink = TestEndpoint.start("sink");
        h3Endpoint = RelayHarness.yaml("""
                admin:
                  address: 127.0.0.1:0
                listeners:
                  - name: tls
                    address: 127.0.0.1:@PORT@
                    protocols: [http2, http3]
                    tls: { certificate: "@CERT@", private_key: "@KEY@" }
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: sink }
                clusters:
                  - { name: sink, endpoints: [ { address: "@SINK@" } ] }
                """).with("PORT", port).with("SINK", sink.address()).start();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            HttpResponse<String> res = get(Proto.H2, "/back");
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(sink.lastRequest().header("via")).hasValueSatisfying(v -> assertThat(v).endsWith(", 3 h3relay"));
        });
        // Each client protocol's requests reach it over h3 too. A request may come in on an event loop whose own
        // QUIC connection to the endpoint is still being made: if that takes longer than race_delay (a loaded CI
        // machine, the endpoint's first handshakes), TCP wins that race by design and the QUIC connection is kept
        // for the next requests; so each protocol is given the same time as above to get there.
        for (Proto proto : Proto.values()) {
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                HttpResponse<String> res = get(proto, "/h3-again?" + proto);
                assertThat(res.statusCode()).isEqualTo(200);
                assertThat(sink.lastRequest().header("via")).as("%s", proto)
                        .hasValueSatisfying(v -> assertThat(v).endsWith(", 3 h3relay"));
            });
        }
        MetricsScrape m = MetricsScrape.of(relay);
        assertThat(m.value("h3relay_upstream_requests_total", Map.of("cluster", "ep", "protocol", "h3")))
                .isGreaterThanOrEqualTo(4);
        assertThat(introspect()).contains("\"h3_broken\":false").contains("\"known_protocols\":[\"h3\",\"h2\"]");
    }

    /**
     * RFC 9220 towards endpoints is not built, so a WebSocket on an http3 or_lower cluster takes the TCP side
     * (an h2 extended CONNECT) while ordinary requests to the same endpoint go over HTTP/3. The endpoint is a
     * second h3relay (h2 and h3 on one port number) in front of a test endpoint and Python websockets; its
     * Via entry names the protocol each request arrived over.
     */
    @Test
    void aWebSocketTakesTheTcpSideWhileRequestsGoOverH3() throws Exception {
        sink = TestEndpoint.start("sink");
        wsEndpoint = PythonWebSockets.startEndpoint();
        h3Endpoint = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: ws, match: { path_prefix: /ws }, cluster: ws }
                  - { name: all, match: { path_prefix: / }, cluster: sink }
                clusters:
                  - { name: sink, endpoints: [ { address: "@SINK@" } ] }
                  - { name: ws, endpoints: [ { address: "@WS@" } ] }
                """).with("LIMITS", "{}").with("SINK", sink.address()).with("WS", wsEndpoint.address()).start();
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: ep }
                clusters:
                  - name: ep
                    protocol: http3
                    endpoints: [ { address: "localhost:@PORT@" } ]
                    tls: { verify: true, ca: "@CA@" }
                """).with("LIMITS", "{}").with("PORT", h3Endpoint.tlsPort())
                .with("CA", RelayHarness.certs().caCertPath()).start();
        // the first requests race QUIC against TCP (TCP may win on a busy machine); then QUIC's connection is there
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            HttpResponse<String> res = get(Proto.H1, "/plain");
            assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
            assertThat(sink.lastRequest().header("via")).hasValueSatisfying(v -> assertThat(v).isEqualTo("1.1 h3relay, 3 h3relay"));
        });

        var r = PythonWebSockets.runClient("wss://localhost:" + relay.tlsPort() + "/ws-over-tcp", 20,
                RelayHarness.certs().caCertPath());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdoutString()).contains("OK 20");
        await().atMost(Duration.ofSeconds(10)).until(() -> wsEndpoint.upgrades().stream()
                .anyMatch(u -> u.contains("/ws-over-tcp") && u.contains("\"via\": \"1.1 h3relay, 2 h3relay\"")));

        HttpResponse<String> res = get(Proto.H2, "/plain-again");
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(sink.lastRequest().header("via")).hasValueSatisfying(v -> assertThat(v).isEqualTo("2 h3relay, 3 h3relay"));
    }

    @Test
    void exactNeverFallsBack() throws Exception {
        startNginx();
        relay = relay("exact");
        for (Proto proto : Proto.values()) {
            HttpResponse<String> res = get(proto, "/exact?" + proto);
            assertThat(res.statusCode()).isEqualTo(502);
            assertThat(res.body()).contains("\"code\":\"upstream_connect_failed\"").contains("QUIC handshake");
        }
        assertThat(nginx.accessLog()).doesNotContain("/exact");
    }
}
