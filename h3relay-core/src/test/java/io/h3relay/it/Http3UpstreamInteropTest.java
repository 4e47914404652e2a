package io.h3relay.it;

import io.h3relay.testing.BodyPattern;
import io.h3relay.testing.Caddy;
import io.h3relay.testing.TestEndpoint;
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
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP/3 upstream ({@code protocol: http3}) against a server we did not write: Caddy (quic-go) serving
 * h3 with a certificate verified against the cluster's {@code tls.ca}; downstream h1, h2 and h3. Caddy's
 * own access log and its {@code {http.request.proto}} placeholder show the requests arrived over HTTP/3.
 * Uploads go through Caddy to a test endpoint that hashes them.
 */
class Http3UpstreamInteropTest {
    private static final int TEN_MIB = 10 * 1024 * 1024;

    @TempDir
    static Path caddyDir;
    static Caddy caddy;
    static TestEndpoint sink;
    static RelayHarness relay;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(caddyDir.resolve("www"));
        Files.write(caddyDir.resolve("www/big"), BodyPattern.bytes(TEN_MIB));
        sink = TestEndpoint.start("sink");
        caddy = Caddy.start(caddyDir, "localhost", """
                tls %s %s
                log
                request_body {
                  max_size 64MB
                }
                handle /proto {
                  respond "{http.request.proto} {http.request.hostport}"
                }
                handle /big {
                  root * %s
                  file_server
                }
                handle /clear {
                  header Alt-Svc clear
                  respond "cleared"
                }
                handle /upload {
                  reverse_proxy 127.0.0.1:%d
                }
                """.formatted(RelayHarness.certs().certPath(), RelayHarness.certs().keyPath(),
                caddyDir.resolve("www"), sink.port()));
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: caddy, match: { path_prefix: /caddy/ }, cluster: caddy, rewrite: { strip_prefix: /caddy } }
                  - { name: auto, match: { path_prefix: /auto/ }, cluster: auto, rewrite: { strip_prefix: /auto } }
                clusters:
                  - name: auto
                    protocol: auto
                    endpoints: [ { address: "localhost:@CADDY@" } ]
                    tls: { verify: true, ca: "@CA@" }
                  - name: caddy
                    protocol: http3
                    endpoints: [ { address: "localhost:@CADDY@" } ]
                    tls: { verify: true, ca: "@CA@" }
                """).with("LIMITS", "{ max_request_body_size: 64MiB }").with("CADDY", caddy.port())
                .with("CA", RelayHarness.certs().caCertPath()).start();
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            relay.close();
        }
        if (caddy != null) {
            caddy.close();
        }
        if (sink != null) {
            sink.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void caddyReceivesHttp3(Proto proto) throws Exception {
        HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/caddy/proto?" + proto))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).as(res.body() + caddy.log()).isEqualTo(200);
        assertThat(res.body()).isEqualTo("HTTP/3.0 localhost:" + relay.tlsPort());
        assertThat(caddy.log()).containsPattern("\"uri\":\"/proto\\?" + proto + "\"[^\n]*\"proto\":\"HTTP/3.0\""
                + "|\"proto\":\"HTTP/3.0\"[^\n]*\"uri\":\"/proto\\?" + proto + "\"");
        MetricsScrape m = MetricsScrape.of(relay);
        assertThat(m.value("h3relay_upstream_requests_total", Map.of("cluster", "caddy", "protocol", "h3")))
                .isGreaterThanOrEqualTo(1);
    }

    /**
     * {@code protocol: auto}: TCP (ALPN h2) first; Caddy's {@code Alt-Svc: h3=":PORT"} is cached for the
     * endpoint and later requests go over HTTP/3; an {@code Alt-Svc: clear} (here over h3) sends them back to h2.
     */
    @org.junit.jupiter.api.Test
    void autoFollowsCaddysAltSvcToHttp3AndBackOnClear() throws Exception {
        HttpResponse<String> first = relay.client(Proto.H2).send(HttpRequest.newBuilder(relay.uri(Proto.H2, "/auto/proto"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(first.body()).startsWith("HTTP/2.0 ");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            HttpResponse<String> res = relay.client(Proto.H2).send(HttpRequest.newBuilder(relay.uri(Proto.H2,
                    "/auto/proto")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(res.body()).startsWith("HTTP/3.0 ");
        });
        for (Proto proto : Proto.values()) {
            HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/auto/proto"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(res.body()).as("over " + proto).startsWith("HTTP/3.0 ");
        }
        HttpResponse<String> cleared = relay.client(Proto.H2).send(HttpRequest.newBuilder(relay.uri(Proto.H2,
                "/auto/clear")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(cleared.body()).isEqualTo("cleared");
        HttpResponse<String> after = relay.client(Proto.H2).send(HttpRequest.newBuilder(relay.uri(Proto.H2, "/auto/proto"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(after.body()).startsWith("HTTP/2.0 ");
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void tenMebibytesBothWaysThroughCaddy(Proto proto) throws Exception {
        HttpResponse<byte[]> down = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/caddy/big"))
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(down.statusCode()).as(caddy.log()).isEqualTo(200);
        assertThat(BodyPattern.sha256Hex(down.body())).isEqualTo(BodyPattern.sha256Hex(TEN_MIB));

        HttpResponse<String> up = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/caddy/upload?" + proto))
                        .timeout(Duration.ofSeconds(60))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(BodyPattern.bytes(TEN_MIB))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(up.statusCode()).as(caddy.log()).isEqualTo(200);
        var recorded = sink.requests().stream().filter(r -> r.uri().equals("/upload?" + proto)).findFirst().orElseThrow();
        assertThat(recorded.bodyLength()).isEqualTo(TEN_MIB);
        assertThat(recorded.bodySha256()).isEqualTo(BodyPattern.sha256Hex(TEN_MIB));
    }
}
