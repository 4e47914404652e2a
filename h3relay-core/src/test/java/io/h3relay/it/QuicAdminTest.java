package io.h3relay.it;

import com.nimbusds.jose.util.JSONObjectUtils;
import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.Http3TestClient;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The admin API's QUIC routes with clients we did not write: {@code GET /quic/connections} while ngtcp2's
 * gtlsclient downloads (and an idle Netty HTTP/3 connection stays open), and qlog: files written by quiche for
 * sampled connections, valid JSON-SEQ (parsed here record by record), turned off and on with
 * {@code POST /quic/qlog}, and kept under {@code qlog_max_size}.
 */
class QuicAdminTest {
    @TempDir
    Path tmp;

    private static RelayHarness start(TestEndpoint endpoint, String http3) {
        return RelayHarness.yaml(RelayHarness.LISTENERS.replace("protocols: [http1, http2, http3]",
                "protocols: [http1, http2, http3]\n    http3: " + http3) + """
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                """).with("LIMITS", "{}").with("EP", endpoint.address()).start();
    }

    private static HttpResponse<String> admin(RelayHarness relay, String method, String pathAndQuery) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + relay.server().adminAddress().getPort() + pathAndQuery))
                    .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> connections(RelayHarness relay, String query) throws Exception {
        HttpResponse<String> r = admin(relay, "GET", "/quic/connections" + query);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return (List<Map<String, Object>>) (List<?>) JSONObjectUtils.parse(r.body()).get("connections");
    }

    private CompletableFuture<ExternalTool.Result> gtlsAsync(RelayHarness relay, String path, String... options) {
        Path exe = ExternalTool.require("gtlsclient");
        int port = relay.tlsPort();
        List<String> cmd = new ArrayList<>(List.of(exe.toString(), "--exit-on-all-streams-close", "--no-quic-dump",
                "--no-http-dump", "--timeout=20s", "--download=" + tmp.resolve("dl-" + System.nanoTime())));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("--sni=localhost", "127.0.0.1", String.valueOf(port), "https://localhost:" + port + path));
        return CompletableFuture.supplyAsync(() -> ExternalTool.run(Duration.ofSeconds(60), cmd));
    }

    private static long num(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).longValue();
    }

    @Test
    void connectionsListsTheBusiestOpenConnectionsWithTheirStats() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("qa");
             RelayHarness relay = start(endpoint, "{}");
             Http3TestClient idle = new Http3TestClient(RelayHarness.certs().caCert())) {
            assertThat(idle.send(HttpRequest.newBuilder(relay.uri(Proto.H3, "/small")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            // A slow download: 40 chunks of 64 KiB, one every 100 ms, so the connection is busy for ~4 s.
            CompletableFuture<ExternalTool.Result> download = gtlsAsync(relay,
                    "/slow?chunks=40&interval=100&size=65536");

            List<Map<String, Object>> all = await().atMost(Duration.ofSeconds(20)).until(
                    () -> connections(relay, ""), l -> l.size() == 2 && num(l.get(0), "bytes_sent") > 256 * 1024);
            Map<String, Object> busiest = all.get(0);
            assertThat(busiest.get("listener")).isEqualTo("tls");
            assertThat((String) busiest.get("peer")).contains("127.0.0.1:");
            assertThat(((Number) busiest.get("rtt_ms")).doubleValue()).isBetween(0.0, 1000.0);
            assertThat(num(busiest, "congestion_window")).isPositive();
            assertThat(num(busiest, "bytes_received")).isPositive();
            assertThat(num(busiest, "packets_sent")).isPositive();
            assertThat(num(busiest, "packets_lost")).isGreaterThanOrEqualTo(0);
            assertThat(num(busiest, "open_streams")).as("the download's request stream").isEqualTo(1);
            assertThat(((Number) busiest.get("age_seconds")).doubleValue()).isPositive();
            assertThat((String) busiest.get("connection_id")).matches("[0-9a-f]{2,40}");
            Map<String, Object> quiet = all.get(1);
            assertThat(num(quiet, "bytes_sent")).isLessThan(num(busiest, "bytes_sent"));
            assertThat(num(quiet, "open_streams")).isZero();

            List<Map<String, Object>> top = connections(relay, "?limit=1");
            assertThat(top).hasSize(1);
            assertThat(top.get(0).get("connection_id")).isEqualTo(busiest.get("connection_id"));
            assertThat(admin(relay, "GET", "/quic/connections?limit=0").statusCode()).isEqualTo(400);
            assertThat(admin(relay, "GET", "/quic/connections?listener=nope").statusCode()).isEqualTo(404);
            assertThat(download.get().exitCode()).isZero();
        }
    }

    /** Parses a JSON-SEQ file (RFC 7464): records start with RS (0x1e) and each is one JSON text. */
    private static List<Map<String, Object>> jsonSeq(Path file) throws Exception {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        assertThat(text).startsWith("\u001e");
        List<Map<String, Object>> out = new ArrayList<>();
        for (String record : text.substring(1).split("\u001e")) {
            out.add(JSONObjectUtils.parse(record.strip()));
        }
        return out;
    }

    private static List<Path> qlogs(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".qlog")).sorted().toList();
        }
    }

    @Test
    void qlogFilesAreValidJsonSeqAndFollowTheAdminSwitch() throws Exception {
        Path dir = tmp.resolve("qlog");
        try (TestEndpoint endpoint = TestEndpoint.start("qa");
             RelayHarness relay = start(endpoint, "{ qlog_dir: \"" + dir + "\" }")) {
            assertThat(gtlsAsync(relay, "/bytes?n=100000").get().exitCode()).isZero();
            Path file = await().atMost(Duration.ofSeconds(10)).until(() -> qlogs(dir), l -> l.size() == 1).get(0);
            // quiche writes as the connection goes; the last records land when it closes.
            // A read may catch a record half written: parse again until a whole file has a packet_sent.
            List<Map<String, Object>> records = await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                    .until(() -> jsonSeq(file), recs -> recs.stream()
                            .anyMatch(r -> String.valueOf(r.get("name")).contains("packet_sent")));
            // quiche 0.29 writes the IETF qlog draft's sequential file schema.
            assertThat(records.get(0)).containsEntry("file_schema", "urn:ietf:params:qlog:file:sequential")
                    .containsEntry("serialization_format", "JSON-SEQ");
            assertThat(records.stream().map(r -> String.valueOf(r.get("name"))))
                    .anyMatch(n -> n.contains("packet_received"))
                    .anyMatch(n -> n.contains("packet_sent"));

            HttpResponse<String> off = admin(relay, "POST", "/quic/qlog?enabled=false");
            assertThat(off.statusCode()).as(off.body()).isEqualTo(200);
            assertThat(gtlsAsync(relay, "/bytes?n=1000").get().exitCode()).isZero();
            assertThat(qlogs(dir)).hasSize(1);

            assertThat(admin(relay, "POST", "/quic/qlog?enabled=true&sample=1").statusCode()).isEqualTo(200);
            assertThat(gtlsAsync(relay, "/bytes?n=1000").get().exitCode()).isZero();
            await().atMost(Duration.ofSeconds(10)).until(() -> qlogs(dir).size() == 2);
            assertThat(admin(relay, "POST", "/quic/qlog?enabled=maybe").statusCode()).isEqualTo(400);
            assertThat(admin(relay, "GET", "/quic/qlog").body()).contains("\"files_started\":2");
        }
    }

    @Test
    void qlogWithoutAFolderCannotBeTurnedOn() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("qa");
             RelayHarness relay = start(endpoint, "{}")) {
            assertThat(admin(relay, "POST", "/quic/qlog?enabled=true").statusCode()).isEqualTo(409);
        }
    }

    /** qlog_max_size: once the folder is over it, the oldest files go before a new one starts. */
    @Test
    void qlogFolderIsKeptUnderItsCap() throws Exception {
        Path dir = tmp.resolve("qlog");
        try (TestEndpoint endpoint = TestEndpoint.start("qa");
             RelayHarness relay = start(endpoint, "{ qlog_dir: \"" + dir + "\", qlog_max_size: 1MiB }")) {
            assertThat(gtlsAsync(relay, "/bytes?n=8000000").get().exitCode()).isZero();
            Path first = await().atMost(Duration.ofSeconds(10)).until(() -> qlogs(dir), l -> l.size() == 1).get(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.size(first) > (1 << 20));
            Thread.sleep(1100); // the folder is checked at most once a second
            assertThat(gtlsAsync(relay, "/bytes?n=1000").get().exitCode()).isZero();
            await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(first));
            assertThat(qlogs(dir)).hasSize(1);
        }
    }
}
