package io.h3relay.it;

import io.h3relay.config.ConfigLoader;
import io.h3relay.server.RelayServer;
import io.h3relay.testing.ExternalTool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * {@code admin.tls}: the admin listener over HTTPS with the same certificate block as a listener's, checked
 * with curl (a client we did not write) trusting only the test CA; plaintext is refused; the control
 * center, the API and a change with the token work over it; a bad block fails the start naming admin.tls.
 */
class AdminTlsTest {
    static RelayHarness relay;

    @BeforeAll
    static void start() {
        relay = RelayHarness.yaml(RelayHarness.LISTENERS.replace("""
                admin:
                  address: 127.0.0.1:0
                """, """
                admin:
                  address: 127.0.0.1:0
                  auth_token: s3cret
                  tls: { certificate: "@CERT@", private_key: "@KEY@" }
                """) + """
                routes:
                  - { name: all, match: { path_prefix: / }, respond: { status: 200, body: "ok" } }
                clusters:
                  - { name: c, endpoints: [ { address: "127.0.0.1:9" } ] }
                """).with("LIMITS", "{}").start();
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            relay.close();
        }
    }

    private static String adminUrl(String path) {
        return "https://localhost:" + relay.server().adminAddress().getPort() + path;
    }

    private static ExternalTool.Result curl(String... args) {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(
                ExternalTool.require("curl").toString(), "-sS", "--max-time", "10",
                "--cacert", RelayHarness.certs().caCertPath().toString(), "-w", "\n%{http_code} %{scheme}"));
        command.addAll(java.util.List.of(args));
        return ExternalTool.run(Duration.ofSeconds(30), command);
    }

    @Test
    void healthReadinessAndTheApiAnswerOverHttps() {
        ExternalTool.Result r = curl(adminUrl("/healthz"));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdoutString()).endsWith("200 HTTPS");
        assertThat(curl(adminUrl("/readyz")).stdoutString()).endsWith("200 HTTPS");
        ExternalTool.Result config = curl(adminUrl("/config"));
        assertThat(config.stdoutString()).endsWith("200 HTTPS").contains("\"admin\"").doesNotContain("s3cret");
        assertThat(curl(adminUrl("/ui")).stdoutString()).contains("<html").endsWith("200 HTTPS");
    }

    @Test
    void changesNeedTheTokenOverHttpsToo() {
        ExternalTool.Result without = curl("-X", "POST", adminUrl("/clusters/c/endpoints/127.0.0.1:9/disable"));
        assertThat(without.stdoutString()).endsWith("401 HTTPS");
        ExternalTool.Result with = curl("-X", "POST", "-H", "Authorization: Bearer s3cret",
                adminUrl("/clusters/c/endpoints/127.0.0.1:9/disable"));
        assertThat(with.stdoutString()).as(with.toString()).endsWith("200 HTTPS").contains("disabled");
        assertThat(curl("-X", "POST", "-H", "Authorization: Bearer s3cret",
                adminUrl("/clusters/c/endpoints/127.0.0.1:9/enable")).stdoutString()).endsWith("200 HTTPS");
    }

    @Test
    void plaintextIsRefused() {
        ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(30), ExternalTool.require("curl").toString(), "-sS",
                "--max-time", "10", "http://127.0.0.1:" + relay.server().adminAddress().getPort() + "/healthz");
        assertThat(r.exitCode()).as("no HTTP answer on the TLS admin port: " + r).isNotZero();
    }

    @Test
    void aCertificateTheClientDoesNotTrustFailsTheHandshake() throws Exception {
        Path emptyCa = Files.createTempFile("h3relay-no-ca", ".pem");
        ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(30), ExternalTool.require("curl").toString(), "-sS",
                "--max-time", "10", "--cacert", emptyCa.toString(), adminUrl("/healthz"));
        assertThat(r.exitCode()).isNotZero();
    }

    @Test
    void aMissingCertificateFailsTheStartNamingAdminTls(@TempDir Path dir) throws Exception {
        String yaml = """
                admin:
                  address: 127.0.0.1:0
                  tls: { certificate: "%s", private_key: "%s" }
                listeners:
                  - { name: plain, address: 127.0.0.1:0, protocols: [http1] }
                routes:
                  - { name: all, match: { path_prefix: / }, respond: { status: 200 } }
                """.formatted(dir.resolve("missing.crt"), dir.resolve("missing.key"));
        // Refused when the config is read (a ConfigException with the line) or at the start (StartException).
        Throwable t = catchThrowable(() -> RelayServer.start(ConfigLoader.parse(yaml, dir, Map.of())).stop());
        assertThat(t).isNotNull();
        assertThat(t.getMessage()).contains("admin.tls");
    }
}
