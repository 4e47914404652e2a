package io.h3relay.it;

import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.Http3TestClient;
import io.h3relay.testing.TestCertificates;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A certificate swap by reload over real sockets, on h1, h2 and h3: the listener's certificate files get new
 * contents under the same paths (the usual rotation) and {@code POST /config/reload} is called while a slow
 * download streams. New handshakes (our clients, {@code openssl s_client}) present the new certificate, a
 * client trusting only the old CA is refused; the download in flight finishes intact and, on h2 and h3, its
 * connection goes on serving new requests without a new handshake. A new {@code tls} block with other paths
 * is applied the same way; a certificate file the TLS engine cannot use rejects the reload and the old
 * certificate keeps serving.
 */
class CertificateReloadTest {
    private static final String YAML = """
            admin: { address: 127.0.0.1:0 }
            listeners:
              - name: tls
                address: 127.0.0.1:0
                protocols: [http1, http2, http3]
                tls: { certificate: "@LIVE_CERT@", private_key: "@LIVE_KEY@" }
            routes:
              - { name: all, match: { path_prefix: / }, cluster: c }
            clusters:
              - { name: c, endpoints: [ { address: "@EP@" } ] }
            shutdown: { drain_timeout: 20s }
            """;

    @TempDir
    Path dir;
    TestCertificates before;
    TestCertificates after;
    Path liveCert;
    Path liveKey;
    Path file;
    TestEndpoint endpoint;
    RelayHarness relay;
    final List<HttpClient> clients = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        before = TestCertificates.create(dir.resolve("before"), "localhost", "127.0.0.1");
        after = TestCertificates.create(dir.resolve("after"), "localhost", "127.0.0.1");
        liveCert = dir.resolve("live-cert.pem");
        liveKey = dir.resolve("live-key.pem");
        install(before);
        endpoint = TestEndpoint.start("ep");
        file = dir.resolve("h3relay.yaml");
        relay = RelayHarness.yaml(YAML).with("LIVE_CERT", liveCert).with("LIVE_KEY", liveKey)
                .with("EP", endpoint.address()).startFrom(file);
    }

    @AfterEach
    void stop() {
        clients.forEach(HttpClient::close);
        if (relay != null) {
            relay.close();
        }
        endpoint.close();
    }

    /** Puts {@code certs} under the live paths, as an operator (or certbot) replaces files. */
    private void install(TestCertificates certs) throws Exception {
        Files.copy(certs.certPath(), liveCert, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(certs.keyPath(), liveKey, StandardCopyOption.REPLACE_EXISTING);
    }

    private HttpClient client(Proto proto, TestCertificates trusted) {
        HttpClient c = proto == Proto.H3 ? new Http3TestClient(trusted.caCert())
                : HttpClient.newBuilder().version(proto.version).sslContext(trusted.trustingSslContext())
                .connectTimeout(Duration.ofSeconds(5)).build();
        clients.add(c);
        return c;
    }

    private HttpResponse<String> get(HttpClient client, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(relay.uri(Proto.H1, path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> reload() throws Exception {
        try (HttpClient admin = HttpClient.newHttpClient()) {
            return admin.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + relay.server().adminAddress().getPort() + "/config/reload"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    private double reloads(String result) {
        return relay.server().telemetry().sum("h3relay_config_reloads", Map.of("result", result));
    }

    private long requests(String pathPrefix) {
        return endpoint.requests().stream().filter(r -> r.path().startsWith(pathPrefix)).count();
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void newContentsUnderTheSamePathsServeNewHandshakesWhileOpenConnectionsContinue(Proto proto) throws Exception {
        HttpClient old = client(proto, before);
        assertThat(get(old, "/warm").statusCode()).isEqualTo(200);
        CompletableFuture<HttpResponse<byte[]>> download = old.sendAsync(
                HttpRequest.newBuilder(relay.uri(proto, "/slow?chunks=10&interval=200&size=10000")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        await().atMost(Duration.ofSeconds(5)).until(() -> requests("/slow") == 1);

        install(after);
        HttpResponse<String> res = reload();
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        assertThat(res.body()).contains("\"result\":\"applied\"");
        assertThat(reloads("applied")).isEqualTo(1.0);

        // New handshakes present the new certificate: a client trusting only the new CA gets in, one trusting
        // only the old CA is refused.
        HttpResponse<String> fresh = get(client(proto, after), "/fresh");
        assertThat(fresh.statusCode()).isEqualTo(200);
        assertThat(endpoint.requests().stream().filter(r -> r.path().equals("/fresh")).findFirst().orElseThrow()
                .header("via")).as("spoken over " + proto).hasValueSatisfying(v -> assertThat(v).contains(proto.via + " h3relay"));
        assertThatThrownBy(() -> get(client(proto, before), "/stale"))
                .as("a new handshake with the old certificate's CA only").isInstanceOf(Exception.class);
        assertThat(download).as("the download is still streaming").isNotDone();
        if (proto != Proto.H1) {
            // The open connection (negotiated with the old certificate) goes on serving new streams.
            assertThat(get(old, "/again").statusCode()).isEqualTo(200);
        }

        HttpResponse<byte[]> done = download.get(15, TimeUnit.SECONDS);
        assertThat(done.statusCode()).isEqualTo(200);
        assertThat(done.body()).hasSize(100_000);
        assertThat(requests("/stale")).as("the refused handshake sent nothing upstream").isZero();
    }

    @Test
    void opensslSeesTheNewCertificateAfterTheReload() throws Exception {
        Path openssl = ExternalTool.require("openssl");
        assertThat(presentedLeaf(openssl)).isEqualTo(before.leafCert());

        install(after);
        assertThat(reload().statusCode()).isEqualTo(200);

        assertThat(presentedLeaf(openssl)).isEqualTo(after.leafCert());
    }

    @Test
    void aNewTlsBlockWithOtherPathsIsAppliedWithoutARestart() throws Exception {
        Files.writeString(file, Files.readString(file).replace(liveCert.toString(), after.certPath().toString())
                .replace(liveKey.toString(), after.keyPath().toString()));
        HttpResponse<String> res = reload();
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        for (Proto proto : Proto.values()) {
            assertThat(get(client(proto, after), "/" + proto).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void anUnusableCertificateRejectsTheReloadAndTheOldOneServes() throws Exception {
        Files.writeString(liveCert, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
        HttpResponse<String> res = reload();
        assertThat(res.statusCode()).as(res.body()).isEqualTo(400);
        assertThat(res.body()).contains("\"result\":\"rejected\"", "listeners[0].tls.certificate");
        assertThat(reloads("rejected")).isEqualTo(1.0);
        assertThat(relay.server().runtime().generation()).isEqualTo(1);
        for (Proto proto : Proto.values()) {
            assertThat(get(client(proto, before), "/" + proto).statusCode()).isEqualTo(200);
        }
    }

    /** The leaf certificate a fresh {@code openssl s_client} handshake is shown. */
    private X509Certificate presentedLeaf(Path openssl) throws Exception {
        ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(20), openssl.toString(), "s_client", "-connect",
                "127.0.0.1:" + relay.tlsPort(), "-servername", "localhost");
        String out = r.stdoutString();
        int from = out.indexOf("-----BEGIN CERTIFICATE-----");
        int to = out.indexOf("-----END CERTIFICATE-----");
        assertThat(from).as("s_client output: %s\n%s", out, r.stderr()).isNotNegative();
        byte[] der = Base64.getMimeDecoder().decode(out.substring(from + 27, to));
        return (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(der));
    }
}
