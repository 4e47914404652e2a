package io.h3relay.it;

import io.h3relay.testing.BodyPattern;
import io.h3relay.testing.Caddy;
import io.h3relay.testing.Nginx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP/2 upstreams against servers we did not write: nginx ({@code listen ... ssl http2}, TLS with ALPN h2,
 * certificate verified) and Caddy serving h2c (Go's h2c handler, by prior knowledge), downstream h1, h2
 * and h3. Their own logs / variables show the request arrived over HTTP/2.
 */
class Http2UpstreamInteropTest {
    private static final int TEN_MIB = 10 * 1024 * 1024;

    @TempDir
    static Path nginxDir;
    @TempDir
    static Path caddyDir;
    static Nginx nginx;
    static Caddy caddy;
    static RelayHarness relay;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(nginxDir.resolve("www"));
        Files.write(nginxDir.resolve("www/big"), BodyPattern.bytes(TEN_MIB));
        nginx = Nginx.start(nginxDir, """
                listen 127.0.0.1:@PORT@ ssl http2;
                server_name localhost;
                ssl_certificate %s;
                ssl_certificate_key %s;
                client_max_body_size 64m;
                location = /proto { return 200 "$server_protocol $http_host $scheme"; }
                location = /upload { client_body_in_single_buffer on; return 200 "$content_length"; }
                location / { root %s; }
                """.formatted(RelayHarness.certs().certPath(), RelayHarness.certs().keyPath(), nginxDir.resolve("www")));
        caddy = Caddy.startPlain(caddyDir, "h1 h2c", """
                respond "{http.request.proto} {http.request.host}"
                """);
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: nginx, match: { path_prefix: /nginx/ }, cluster: nginx, rewrite: { strip_prefix: /nginx } }
                  - { name: caddy, match: { path_prefix: /caddy/ }, cluster: caddy, rewrite: { strip_prefix: /caddy } }
                clusters:
                  - name: nginx
                    protocol: http2
                    endpoints: [ { address: "localhost:@NGINX@" } ]
                    tls: { verify: true, ca: "@CA@" }
                  - { name: caddy, protocol: h2c, endpoints: [ { address: "127.0.0.1:@CADDY@" } ] }
                """).with("LIMITS", "{ max_request_body_size: 64MiB }").with("NGINX", nginx.port())
                .with("CADDY", caddy.port()).with("CA", RelayHarness.certs().caCertPath()).start();
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            relay.close();
        }
        if (nginx != null) {
            nginx.close();
        }
        if (caddy != null) {
            caddy.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void nginxReceivesHttp2OverTls(Proto proto) throws Exception {
        HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/nginx/proto"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).as(nginx.log()).isEqualTo(200);
        assertThat(res.body()).isEqualTo("HTTP/2.0 localhost:" + relay.tlsPort() + " https");
        // nginx writes the line after the response has gone out: a client can read the body first (seen in CI)
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(nginx.accessLog()).contains("GET /proto HTTP/2.0 200 HTTP/2.0"));
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void tenMebibytesBothWaysThroughNginx(Proto proto) throws Exception {
        HttpResponse<byte[]> down = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/nginx/big"))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(down.statusCode()).isEqualTo(200);
        assertThat(BodyPattern.sha256Hex(down.body())).isEqualTo(BodyPattern.sha256Hex(TEN_MIB));

        HttpResponse<String> up = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/nginx/upload"))
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(BodyPattern.bytes(TEN_MIB))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(up.statusCode()).as(nginx.log()).isEqualTo(200);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void caddyReceivesH2c(Proto proto) throws Exception {
        HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/caddy/x"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).as(caddy.log()).isEqualTo(200);
        assertThat(res.body()).isEqualTo("HTTP/2.0 localhost");
    }
}
