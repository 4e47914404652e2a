package io.h3relay.it;

import io.h3relay.testing.Curl;
import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.TestCertificates;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Downstream TLS through the whole proxy with curl and nghttp: a PKCS#12 keystore, SNI choosing a second
 * certificate, client-certificate authentication, TLS 1.3 minimum, and request trailers.
 */
class ListenerTlsTest {
    @TempDir
    static Path dir;

    static TestEndpoint endpoint;
    static TestCertificates other;
    static RelayHarness relay;

    @BeforeAll
    static void start() throws Exception {
        endpoint = TestEndpoint.start("tls-ep");
        TestCertificates main = RelayHarness.certs();
        Path p12 = dir.resolve("server.p12");
        main.writePkcs12(p12, "s3cret".toCharArray());
        Path otherDir = Files.createDirectories(dir.resolve("other"));
        other = TestCertificates.create(otherDir, "api.example.test");
        relay = RelayHarness.yaml("""
                admin: { address: 127.0.0.1:0 }
                listeners:
                  - name: tls
                    address: 127.0.0.1:0
                    protocols: [http1, http2]
                    tls:
                      certificate: "@P12@"
                      password: s3cret
                      min_version: TLSv1.3
                      sni:
                        - server_names: ["api.example.test"]
                          certificate: "@OTHER_CERT@"
                          private_key: "@OTHER_KEY@"
                  - name: plain
                    address: 127.0.0.1:0
                    protocols: [http1, h2c]
                  - name: mtls
                    address: 127.0.0.1:0
                    protocols: [http1, http2]
                    tls: { certificate: "@CERT@", private_key: "@KEY@", client_auth: require, client_ca: "@CA@" }
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                """).with("P12", p12).with("OTHER_CERT", other.certPath()).with("OTHER_KEY", other.keyPath())
                .with("CA", main.caCertPath()).with("EP", endpoint.address()).start();
    }

    @AfterAll
    static void stop() {
        relay.close();
        endpoint.close();
    }

    @Test
    void pkcs12CertificateServesH1AndH2() {
        for (String v : new String[] {"1.1", "2"}) {
            Curl c = Curl.to(relay.tlsUrl("/x")).cacert(RelayHarness.certs().caCertPath());
            Curl.Response res = ("2".equals(v) ? c.http2() : c.http1_1()).execute();
            assertThat(res.exitCode()).as(res.stderr()).isZero();
            assertThat(res.httpVersion()).isEqualTo(v);
        }
    }

    @Test
    void sniPicksTheCertificateForTheName() {
        int port = relay.tlsPort();
        Curl.Response res = Curl.to("https://api.example.test:" + port + "/x").http2()
                .resolve("api.example.test:" + port + ":127.0.0.1").cacert(other.caCertPath()).execute();
        assertThat(res.exitCode()).as(res.stderr()).isZero();
        assertThat(res.status()).isEqualTo(200);
        // The default certificate is not valid for that name: trusting only its CA fails verification.
        Curl.Response wrong = Curl.to("https://api.example.test:" + port + "/x").http2()
                .resolve("api.example.test:" + port + ":127.0.0.1").cacert(RelayHarness.certs().caCertPath()).execute();
        assertThat(wrong.exitCode()).isNotZero();
    }

    @Test
    void tls13MinimumRefusesTls12() {
        Curl.Response res = Curl.to(relay.tlsUrl("/x")).cacert(RelayHarness.certs().caCertPath())
                .arg("--tls-max", "1.2").execute();
        assertThat(res.exitCode()).isNotZero();
        assertThat(endpoint.requests()).noneMatch(r -> r.uri().equals("/tls12"));
    }

    @Test
    void clientCertificateRequired() {
        String url = "https://localhost:" + relay.server().listenerAddress("mtls").getPort() + "/mtls";
        TestCertificates certs = RelayHarness.certs();
        Curl.Response without = Curl.to(url).http2().cacert(certs.caCertPath()).execute();
        assertThat(without.exitCode()).isNotZero();

        Curl.Response with = Curl.to(url).http2().cacert(certs.caCertPath())
                .clientCert(certs.clientCertPath(), certs.clientKeyPath()).execute();
        assertThat(with.exitCode()).as(with.stderr()).isZero();
        assertThat(with.status()).isEqualTo(200);
        assertThat(endpoint.lastRequest().uri()).isEqualTo("/mtls");
    }

    @Test
    void h2RequestWithLengthAndTrailersKeepsTheLength() throws Exception {
        // nghttp declares content-length: the h1 request keeps it, and with it there is no room for
        // trailers on HTTP/1.1 (they need chunked framing), so the body arrives intact and the trailer not.
        var nghttp = ExternalTool.require("nghttp");
        Path body = dir.resolve("body.txt");
        Files.writeString(body, "payload with trailers");
        ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(20), nghttp.toString(), "-n",
                "-d", body.toString(), "--trailer", "x-checksum: abc123", relay.plainUrl("/sink"));

        assertThat(r.exitCode()).as(r.stderr()).isZero();
        var seen = endpoint.lastRequest();
        assertThat(seen.bodyLength()).isEqualTo(21);
        assertThat(seen.header("content-length")).hasValue("21");
    }

    @Test
    void h1ChunkedRequestTrailersAreForwarded() throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", relay.plainPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("POST /sink HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
                    + "Connection: close\r\n\r\n5\r\nhello\r\n0\r\nx-checksum: abc123\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String response = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
            assertThat(response).startsWith("HTTP/1.1 200");
        }
        var seen = endpoint.lastRequest();
        assertThat(seen.bodyLength()).isEqualTo(5);
        assertThat(seen.trailer("x-checksum")).hasValue("abc123");
    }
}
