package io.h3relay.cli;

import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code serve} and {@code demo} as real processes: start, serve, SIGTERM drains, exit 0. */
class ProcessLifecycleTest {
    @TempDir
    Path dir;

    @Test
    void sigtermLetsAnInFlightExchangeFinishThenExitsZero() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("slow")) {
            Path cfg = serveConfig(endpoint);
            try (CliProcess p = CliProcess.start(dir, "serve", "-c", cfg.toString());
                 HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
                String port = p.awaitLine("listener web on /127\\.0\\.0\\.1:(\\d+)", Duration.ofSeconds(20));
                URI slow = URI.create("http://127.0.0.1:" + port + "/slow?chunks=8&interval=150&size=1000");
                CompletableFuture<HttpResponse<byte[]>> inFlight = client.sendAsync(HttpRequest.newBuilder(slow).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                // SIGTERM only once the exchange is really in flight (reached the endpoint).
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.requestCount() > 0);
                p.sigterm();

                HttpResponse<byte[]> res = inFlight.get();
                assertThat(res.statusCode()).isEqualTo(200);
                assertThat(res.body()).hasSize(8000);
                assertThat(p.awaitExit(Duration.ofSeconds(10))).isZero();
                assertThatThrownBy(() -> client.send(HttpRequest.newBuilder(slow).build(),
                        HttpResponse.BodyHandlers.discarding())).isInstanceOf(java.io.IOException.class);
            }
        }
    }

    @Test
    void postDrainOnTheAdminListenerDrainsAndExitsZero() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("drained")) {
            Path cfg = serveConfig(endpoint);
            try (CliProcess p = CliProcess.start(dir, "serve", "-c", cfg.toString());
                 HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
                p.awaitLine("listener web on /127\\.0\\.0\\.1:(\\d+)", Duration.ofSeconds(20));
                String admin = p.awaitLine("admin on /127\\.0\\.0\\.1:(\\d+)", Duration.ofSeconds(5));
                HttpResponse<String> drain = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + admin + "/drain")).POST(HttpRequest.BodyPublishers.noBody())
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(drain.statusCode()).isEqualTo(202);
                assertThat(p.awaitExit(Duration.ofSeconds(15))).isZero();
            }
        }
    }

    @Test
    void sigtermFirstOnlyTurnsReadinessOffThenASecondOneDrains() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("delayed")) {
            Path cfg = serveConfig(endpoint, "45s");
            try (CliProcess p = CliProcess.start(dir, "serve", "-c", cfg.toString());
                 HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
                String port = p.awaitLine("listener web on /127\\.0\\.0\\.1:(\\d+)", Duration.ofSeconds(20));
                String admin = p.awaitLine("admin on /127\\.0\\.0\\.1:(\\d+)", Duration.ofSeconds(5));
                URI readyz = URI.create("http://127.0.0.1:" + admin + "/readyz");
                URI app = URI.create("http://127.0.0.1:" + port + "/app");
                assertThat(client.send(HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.discarding())
                        .statusCode()).isEqualTo(200);

                p.sigterm();
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> client.send(
                        HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 503);
                HttpResponse<String> served = client.send(HttpRequest.newBuilder(app).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(served.statusCode()).as("still served during the delay").isEqualTo(200);
                assertThat(served.headers().firstValue("x-endpoint")).hasValue("delayed");

                p.sigterm(); // the second one ends the delay: drain proper, exit 0, long before 45s
                assertThat(p.awaitExit(Duration.ofSeconds(15))).isZero();
                assertThat(p.output()).contains("SIGTERM received: /readyz answers 503, still serving for 45s"
                                + " (shutdown.drain_delay), then draining for up to 10s",
                        "SIGTERM received again: ending shutdown.drain_delay now").doesNotContainPattern("PT[0-9]");
            }
        }
    }

    @Test
    void demoServesBothListenersAndTheAdminEndpoint() throws Exception {
        try (CliProcess p = CliProcess.start(dir, "demo", "--https-port", "0", "--http-port", "0",
                "--admin-port", "0", "--state-dir", dir.resolve("state").toString());
             HttpClient client = HttpClient.newBuilder().build()) {
            String http = p.awaitLine("http://localhost:(\\d+)/ +plaintext", Duration.ofSeconds(30));
            String admin = p.awaitLine("http://127\\.0\\.0\\.1:(\\d+)/readyz", Duration.ofSeconds(5));
            p.awaitLine("https://localhost:(\\d+)/ +TLS", Duration.ofSeconds(5));
            assertThat(dir.resolve("state/demo/localhost.crt")).exists();

            HttpResponse<String> one = client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + http + "/a"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> two = client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + http + "/b"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(one.statusCode()).isEqualTo(200);
            assertThat(one.body() + two.body()).contains("demo-endpoint-1", "demo-endpoint-2");
            HttpResponse<String> ready = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + admin + "/readyz")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(200);

            // The banner: the certificate's SPKI pin; the access log in the state folder, not on the terminal.
            String pin = p.awaitLine("self-signed certificate: .*localhost\\.crt \\(SPKI sha256 ([A-Za-z0-9+/=]{44})\\)",
                    Duration.ofSeconds(5));
            assertThat(p.output()).contains("--ignore-certificate-errors-spki-list=" + pin);
            Path accessLog = Path.of(p.awaitLine("access log: (.+)$", Duration.ofSeconds(5)));
            assertThat(accessLog).isEqualTo(dir.resolve("state/demo/access.log").toAbsolutePath());
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(accessLog)
                    && Files.readString(accessLog).contains("\"/b\""));
            assertThat(p.output()).doesNotContain("request_id");

            p.sigterm();
            assertThat(p.awaitExit(Duration.ofSeconds(15))).isZero();
        }
    }


    @Test
    void proxyCommandForwardsOverPlaintextAndSelfSignedTls() throws Exception {
        java.net.ServerSocket busy = null;
        try {
            busy = new java.net.ServerSocket(9901, 50, java.net.InetAddress.getLoopbackAddress());
        } catch (java.io.IOException inUseAlready) {
            // someone (a demo) has 9901: just as good, the proxy must not need it
        }
        try (TestEndpoint endpoint = TestEndpoint.start("proxied")) {
            for (String from : new String[] {"http://127.0.0.1:0", "127.0.0.1:0"}) {
                try (CliProcess p = CliProcess.start(dir, "proxy", "--from", from, "--to", endpoint.address(),
                        "--state-dir", dir.resolve("state").toString());
                     HttpClient client = HttpClient.newBuilder().sslContext(trustAll()).build()) {
                    String url = p.awaitLine("h3relay proxy: (\\S+) -> ", Duration.ofSeconds(30));
                    assertThat(url).as("a URL to paste").matches((from.startsWith("http://") ? "http" : "https")
                            + "://127\\.0\\.0\\.1:\\d+");
                    String admin = p.awaitLine("admin: (http://127\\.0\\.0\\.1:\\d+)/readyz \\(a free port",
                            Duration.ofSeconds(5));
                    assertThat(admin).doesNotEndWith(":9901");
                    if (!from.startsWith("http://")) {
                        String cert = p.awaitLine("self-signed certificate: (\\S+) \\(SPKI sha256 [A-Za-z0-9+/=]{44}\\)",
                                Duration.ofSeconds(5));
                        assertThat(Path.of(cert)).isEqualTo(dir.resolve("state/proxy/localhost.crt").toAbsolutePath());
                    }
                    HttpResponse<String> res = client.send(HttpRequest.newBuilder(URI.create(url + "/hello")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(res.statusCode()).isEqualTo(200);
                    assertThat(res.headers().firstValue("x-endpoint")).hasValue("proxied");
                    p.sigterm();
                    assertThat(p.awaitExit(Duration.ofSeconds(15))).isZero();
                }
            }
        } finally {
            if (busy != null) {
                busy.close();
            }
        }
    }

    /** One plaintext listener in front of {@code endpoint}, admin and listener on free ports; the drain proper only. */
    private Path serveConfig(TestEndpoint endpoint) throws java.io.IOException {
        return serveConfig(endpoint, "0");
    }

    private Path serveConfig(TestEndpoint endpoint, String drainDelay) throws java.io.IOException {
        return Files.writeString(dir.resolve("h3relay.yaml"), """
                admin: { address: 127.0.0.1:0 }
                listeners:
                  - name: web
                    address: 127.0.0.1:0
                routes:
                  - name: all
                    match: { path_prefix: / }
                    cluster: app
                clusters:
                  - name: app
                    endpoints: [ { address: "%s" } ]
                shutdown: { drain_delay: %s, drain_timeout: 10s }
                """.formatted(endpoint.address(), drainDelay));
    }

    /** The proxy command's certificate is self-signed: this test checks forwarding, not trust. */
    private static javax.net.ssl.SSLContext trustAll() throws Exception {
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        ctx.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
            public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) { }
            public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) { }
            public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                return new java.security.cert.X509Certificate[0];
            }
        }}, null);
        return ctx;
    }
}
