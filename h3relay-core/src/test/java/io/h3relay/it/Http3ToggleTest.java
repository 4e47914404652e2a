package io.h3relay.it;

import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Admin {@code POST /listeners/{name}/http3?enabled=false|true}: off, ngtcp2's gtlsclient can no longer connect,
 * h1/h2 responses advertise {@code Alt-Svc: clear} instead of h3, an h3 download started before completes
 * intact, and the UDP sockets close once it is done; on, gtlsclient gets through again and h3 is advertised.
 * A reload keeps the runtime state.
 */
class Http3ToggleTest {
    @TempDir
    Path tmp;
    TestEndpoint endpoint;
    RelayHarness relay;
    HttpClient admin;

    @BeforeEach
    void start() {
        endpoint = TestEndpoint.start("h3toggle");
        // drain_timeout bounds how long QUIC connections may finish after "off": long enough for the download
        // under a loaded machine (the harness's 2s is meant for fast stops).
        relay = RelayHarness.yaml(RelayHarness.LISTENERS.replace("drain_timeout: 2s", "drain_timeout: 20s") + """
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                """).with("LIMITS", "{}").with("EP", endpoint.address()).start();
        assertThat(relay.server().config().shutdown().drainTimeout()).isEqualTo(Duration.ofSeconds(20));
        admin = HttpClient.newHttpClient();
    }

    @AfterEach
    void stop() {
        relay.close();
        admin.close();
        endpoint.close();
    }

    private HttpResponse<String> toggle(String enabled) throws Exception {
        return admin.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + relay.server().adminAddress().getPort() + "/listeners/tls/http3?enabled=" + enabled))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private ExternalTool.Result gtls(String path) throws Exception {
        Path exe = ExternalTool.require("gtlsclient");
        Path dir = Files.createDirectories(tmp.resolve("dl-" + System.nanoTime()));
        int port = relay.tlsPort();
        return ExternalTool.run(Duration.ofSeconds(30), List.of(exe.toString(), "--exit-on-all-streams-close",
                "--no-quic-dump", "--timeout=3s", "--download=" + dir, "--sni=localhost",
                "127.0.0.1", String.valueOf(port), "https://localhost:" + port + path));
    }

    private static String log(ExternalTool.Result r) {
        return r.stderr() + r.stdoutString();
    }

    private String altSvc() throws Exception {
        return relay.client(Proto.H2).send(HttpRequest.newBuilder(relay.uri(Proto.H2, "/alt")).build(),
                HttpResponse.BodyHandlers.discarding()).headers().firstValue("alt-svc").orElse("");
    }

    @Test
    void http3OffRefusesNewQuicConnectionsLetsOpenDownloadsFinishAndOnBringsItBack() throws Exception {
        ExternalTool.Result before = gtls("/before");
        assertThat(before.exitCode()).as(before.toString()).isZero();
        assertThat(log(before)).contains("[:status: 200]");
        assertThat(altSvc()).startsWith("h3=\":" + relay.tlsPort() + "\"");

        CompletableFuture<HttpResponse<byte[]>> download = relay.client(Proto.H3).sendAsync(HttpRequest.newBuilder(
                relay.uri(Proto.H3, "/slow?chunks=20&interval=100&size=1000")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.requests().stream()
                .anyMatch(r -> r.uri().startsWith("/slow")));

        HttpResponse<String> off = toggle("false");
        assertThat(off.statusCode()).as(off.body()).isEqualTo(200);
        assertThat(off.body()).contains("\"http3\":false", "\"changed\":true");
        assertThat(altSvc()).isEqualTo("clear");

        // gtlsclient exits 0 when the server closes the connection; what it did not get is a response.
        ExternalTool.Result refused = gtls("/while-off");
        assertThat(log(refused)).doesNotContain(":status");
        assertThat(endpoint.requests()).noneMatch(r -> r.uri().equals("/while-off"));

        HttpResponse<byte[]> res = download.get();
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body()).hasSize(20_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> relay.server().events().since(0).stream()
                .anyMatch(e -> e.type().equals("http3_closed")));
        ExternalTool.Result closed = gtls("/closed");
        assertThat(log(closed)).doesNotContain(":status");
        assertThat(endpoint.requests()).noneMatch(r -> r.uri().equals("/closed"));

        // The runtime state survives a reload of an unchanged file.
        assertThat(relay.server().apply(relay.server().config()).generation()).isEqualTo(2);
        assertThat(relay.server().http3Enabled("tls")).isFalse();

        HttpResponse<String> on = toggle("true");
        assertThat(on.statusCode()).as(on.body()).isEqualTo(200);
        assertThat(on.body()).contains("\"http3\":true");
        ExternalTool.Result after = gtls("/after");
        assertThat(after.exitCode()).as(after.toString()).isZero();
        assertThat(log(after)).contains("[:status: 200]");
        assertThat(endpoint.requests()).anyMatch(r -> r.uri().equals("/after"));
        assertThat(altSvc()).startsWith("h3=\":" + relay.tlsPort() + "\"");

        assertThat(toggle("true").body()).contains("\"changed\":false");
        assertThat(toggle("maybe").statusCode()).isEqualTo(400);
        assertThat(admin.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + relay.server().adminAddress().getPort() + "/listeners/plain/http3?enabled=false"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
                .isEqualTo(409);
    }
}
