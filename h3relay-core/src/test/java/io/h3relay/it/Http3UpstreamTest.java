package io.h3relay.it;

import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.Http2TestEndpoint;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The multiplexed HTTP/3 pool against an h3 endpoint of ours (a second h3relay serving h3, in front of a
 * test endpoint): streams of one event loop share a QUIC connection, {@code pool.max_concurrent_streams}
 * caps each connection (more connections open), idle connections close after {@code pool.idle_timeout},
 * and trailers pass both ways (nghttp, a client we did not write, h2 downstream, h3 to the endpoint).
 */
class Http3UpstreamTest {
    static TestEndpoint sink;
    static Http2TestEndpoint h2;
    static RelayHarness inner;
    static RelayHarness relay;

    @BeforeAll
    static void start() {
        sink = TestEndpoint.start("sink");
        h2 = Http2TestEndpoint.startH2c(100);
        inner = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: h2, match: { path_prefix: /h2/ }, cluster: h2, rewrite: { strip_prefix: /h2 } }
                  - { name: all, match: { path_prefix: / }, cluster: sink }
                clusters:
                  - { name: sink, endpoints: [ { address: "@SINK@" } ] }
                  - { name: h2, protocol: h2c, endpoints: [ { address: "@H2@" } ] }
                """).with("LIMITS", "{}").with("SINK", sink.address()).with("H2", h2.address()).start();
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: shared, match: { path_prefix: /shared/ }, cluster: shared, rewrite: { strip_prefix: /shared } }
                  - { name: capped, match: { path_prefix: /capped/ }, cluster: capped, rewrite: { strip_prefix: /capped } }
                  - { name: idle, match: { path_prefix: /idle/ }, cluster: idle, rewrite: { strip_prefix: /idle } }
                clusters:
                  - name: shared
                    protocol: http3
                    protocol_policy: exact
                    endpoints: [ { address: "localhost:@INNER@" } ]
                    tls: { verify: true, ca: "@CA@" }
                  - name: capped
                    protocol: http3
                    protocol_policy: exact
                    endpoints: [ { address: "localhost:@INNER@" } ]
                    tls: { verify: true, ca: "@CA@" }
                    pool: { max_concurrent_streams: 2 }
                  - name: idle
                    protocol: http3
                    protocol_policy: exact
                    endpoints: [ { address: "localhost:@INNER@" } ]
                    tls: { verify: true, ca: "@CA@" }
                    pool: { idle_timeout: 1s }
                """).with("LIMITS", "{}").with("INNER", inner.tlsPort())
                .with("CA", RelayHarness.certs().caCertPath()).start();
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            relay.close();
        }
        if (inner != null) {
            inner.close();
        }
        if (sink != null) {
            sink.close();
        }
        if (h2 != null) {
            h2.close();
        }
    }

    private static double connections(String cluster) throws Exception {
        return MetricsScrape.of(relay).value("h3relay_upstream_pool_connections", Map.of("cluster", cluster));
    }

    private static List<HttpResponse<String>> concurrently(Proto proto, String path, int n) throws Exception {
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(relay.client(proto).sendAsync(HttpRequest.newBuilder(relay.uri(proto, path + "&i=" + i))
                    .timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        List<HttpResponse<String>> out = new ArrayList<>();
        for (var f : all) {
            out.add(f.get(20, TimeUnit.SECONDS));
        }
        return out;
    }

    /** One downstream connection (h2, h3) lands on one event loop: its concurrent requests share one QUIC connection. */
    @ParameterizedTest
    @EnumSource(value = Proto.class, names = {"H2", "H3"})
    void concurrentStreamsShareOneQuicConnection(Proto proto) throws Exception {
        // one request first: the client's connection (and with it the event loop and its QUIC connection) is there
        assertThat(concurrently(proto, "/shared/delay?ms=1&warm=" + proto, 1).get(0).statusCode()).isEqualTo(200);
        double before = connections("shared");
        for (HttpResponse<String> r : concurrently(proto, "/shared/delay?ms=500&p=" + proto, 8)) {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("ok");
        }
        assertThat(connections("shared")).isEqualTo(before);
        assertThat(sink.lastRequest().header("via")).hasValueSatisfying(v -> assertThat(v).endsWith(", 3 h3relay"));
    }

    @ParameterizedTest
    @EnumSource(value = Proto.class, names = {"H2", "H3"})
    void poolMaxConcurrentStreamsOpensMoreConnections(Proto proto) throws Exception {
        for (HttpResponse<String> r : concurrently(proto, "/capped/delay?ms=700&p=" + proto, 6)) {
            assertThat(r.statusCode()).isEqualTo(200);
        }
        // at most 2 streams per connection: six requests at once needed at least three connections
        assertThat(connections("capped")).isGreaterThanOrEqualTo(3);
    }

    @Test
    void idleConnectionsCloseAfterIdleTimeout() throws Exception {
        HttpResponse<String> r = relay.client(Proto.H2).send(HttpRequest.newBuilder(relay.uri(Proto.H2, "/idle/delay?ms=1"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(connections("idle")).isEqualTo(1);
        await().atMost(Duration.ofSeconds(6)).until(() -> connections("idle") == 0);
    }

    /** nghttp's request trailer crosses h2 -> h3 -> h2 to the endpoint, which echoes it and adds one of its own. */
    @Test
    void trailersPassBothWays() throws Exception {
        Path nghttp = ExternalTool.require("nghttp");
        Path body = Files.createTempFile("h3relay-trailers", ".bin");
        Files.writeString(body, "body with trailers");
        ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(20), nghttp.toString(), "-v", "--trailer",
                "x-req-trailer: abc", "-d", body.toString(), relay.tlsUrl("/shared/h2/echo"));
        String out = r.stdoutString();
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(out).contains("body with trailers");
        assertThat(out).containsPattern("recv \\(stream_id=\\d+\\) x-req-trailer: abc");
        assertThat(out).containsPattern("recv \\(stream_id=\\d+\\) x-echo-trailers: 1");
        Files.deleteIfExists(body);
    }
}
