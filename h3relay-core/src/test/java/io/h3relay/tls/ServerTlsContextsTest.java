package io.h3relay.tls;

import io.h3relay.tls.SubjectNames;
import io.h3relay.tls.ServerTlsContexts;
import io.h3relay.tls.ServerTls;
import io.h3relay.config.TlsServerConfig;
import io.h3relay.config.TlsServerConfig.ClientAuth;
import io.h3relay.config.TlsServerConfig.SniCertificate;
import io.h3relay.config.TlsServerConfig.TlsVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A real server on port 0 built by {@link ServerTlsContexts}, checked with the JDK's TLS client. */
@org.junit.jupiter.api.parallel.Isolated("sets the TLS provider system property every relay reads")
class ServerTlsContextsTest {
    private static final List<String> H2_AND_H1 = List.of("h2", "http/1.1");

    @TempDir
    static Path dir;
    static TestPki.Issued ca;
    static TestPki.Issued main;
    static Path mainCert;
    static Path mainKey;

    @BeforeAll
    static void pki() throws Exception {
        ca = TestPki.ca("Test CA");
        main = TestPki.server(ca, "main.test", "127.0.0.1");
        mainCert = TestPki.writeCerts(dir.resolve("main.crt"), main.cert(), ca.cert());
        mainKey = TestPki.writePkcs8(dir.resolve("main.key"), main.key());
    }

    @AfterEach
    void resetProvider() {
        Providers.reset();
    }

    private static TlsServerConfig pem(TlsVersion min, ClientAuth auth, Path clientCa, List<SniCertificate> sni) {
        return new TlsServerConfig(mainCert, mainKey, null, min, auth, clientCa, sni);
    }

    private static TlsServerConfig pem() {
        return pem(TlsVersion.TLS_1_2, ClientAuth.NONE, null, List.of());
    }

    @ParameterizedTest
    @MethodSource("io.h3relay.tls.Providers#available")
    void pemChainWithPkcs8Key(String provider) throws Exception {
        Providers.use(provider);
        try (TlsTestServer server = new TlsTestServer(ServerTlsContexts.build(pem(), H2_AND_H1))) {
            JdkTlsClient.Outcome outcome = new JdkTlsClient().connect(server.port());
            assertThat(outcome.peer()).isEqualTo(main.cert());
            assertThat(outcome.protocol()).isEqualTo("TLSv1.3");
        }
    }

    @ParameterizedTest
    @MethodSource("io.h3relay.tls.Providers#available")
    void traditionalEcAndRsaKeys(String provider) throws Exception {
        Providers.use(provider);
        TestPki.Issued rsa = TestPki.server(ca, TestPki.rsaKey(), "rsa.test");
        Path rsaCert = TestPki.writeCerts(dir.resolve("rsa.crt"), rsa.cert());
        Path rsaKey = TestPki.writeTraditional(dir.resolve("rsa.key"), rsa.keys());
        Path ecKey = TestPki.writeTraditional(dir.resolve("main-ec.key"), main.keys());
        assertThat(rsaKey).content().startsWith("-----BEGIN RSA PRIVATE KEY-----");
        assertThat(ecKey).content().startsWith("-----BEGIN EC PRIVATE KEY-----");

        var rsaCfg = new TlsServerConfig(rsaCert, rsaKey, null, TlsVersion.TLS_1_2, ClientAuth.NONE, null, List.of());
        try (TlsTestServer server = new TlsTestServer(ServerTlsContexts.build(rsaCfg, H2_AND_H1))) {
            assertThat(new JdkTlsClient().connect(server.port()).peer()).isEqualTo(rsa.cert());
        }
        var ecCfg = new TlsServerConfig(mainCert, ecKey, null, TlsVersion.TLS_1_2, ClientAuth.NONE, null, List.of());
        try (TlsTestServer server = new TlsTestServer(ServerTlsContexts.build(ecCfg, H2_AND_H1))) {
            assertThat(new JdkTlsClient().connect(server.port()).peer()).isEqualTo(main.cert());
        }
    }

    @ParameterizedTest
    @MethodSource("io.h3relay.tls.Providers#available")
    void pkcs12WithAndWithoutPassword(String provider) throws Exception {
        Providers.use(provider);
        Path secret = TestPki.writePkcs12(dir.resolve("main.p12"), "s3cret", main.key(), main.cert(), ca.cert());
        Path open = TestPki.writePkcs12(dir.resolve("open.pfx"), null, main.key(), main.cert());
        for (var cfg : List.of(
                new TlsServerConfig(secret, null, "s3cret", TlsVersion.TLS_1_2, ClientAuth.NONE, null, List.of()),
                new TlsServerConfig(open, null, null, TlsVersion.TLS_1_2, ClientAuth.NONE, null, List.of()))) {
            try (TlsTestServer server = new TlsTestServer(ServerTlsContexts.build(cfg, H2_AND_H1))) {
                assertThat(new JdkTlsClient().connect(server.port()).peer()).isEqualTo(main.cert());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.h3relay.tls.Providers#available")
    void alpnPrefersH2AndFallsBackToHttp1(String provider) throws Exception {
        Providers.use(provider);
        try (TlsTestServer server = new TlsTestServer(ServerTlsContexts.build(pem(), H2_AND_H1))) {
            assertThat(new JdkTlsClient().alpn("http/1.1", "h2").connect(server.port()).alpn()).isEqualTo("h2");
            assertThat(new JdkTlsClient().alpn("http/1.1").connect(server.port()).alpn()).isEqualTo("http/1.1");
            // No common protocol, or no ALPN at all: still connected (NO_ADVERTISE / ACCEPT).
            assertThat(new JdkTlsClient().alpn("spdy/3").connect(server.port()).line()).startsWith("ok");
            JdkTlsClient.Outcome none = new JdkTlsClient().connect(server.port());
            assertThat(none.alpn()).isEmpty();
            assertThat(none.line()).isEqualTo("ok null");
        }
    }

    @ParameterizedTest
    @MethodSource("io.h3relay.tls.Providers#available")
    void minVersionTls13RejectsTls12Client(String provider) throws Exception {
        Providers.use(provider);
        var tls13 = pem(TlsVersion.TLS_1_3, ClientAuth.NONE, null, List.of());
        try (TlsTestServer server = new TlsTestServer(ServerTlsContexts.build(tls13, H2_AND_H1))) {
            assertThatThrownBy(() -> new JdkTlsClient().protocols("TLSv1.2").connect(server.port()))
                    .isInstanceOf(java.io.IOException.class);
            assertThat(new JdkTlsClient().connect(server.port()).protocol()).isEqualTo("TLSv1.3");
        }
        try (TlsTestServer server = new TlsTestServer(ServerTlsContexts.build(pem(), H2_AND_H1))) {
            assertThat(new JdkTlsClient().protocols("TLSv1.2").connect(server.port()).protocol())
                    .isEqualTo("TLSv1.2");
        }
    }

    @ParameterizedTest
    @MethodSource("io.h3relay.tls.Providers#available")
    void sniPicksCertificateByServerName(String provider) throws Exception {
        Providers.use(provider);
        TestPki.Issued api = TestPki.server(ca, "api.test");
        TestPki.Issued wild = TestPki.server(ca, "*.wild.test");
        var sni = List.of(
                new SniCertificate(List.of("api.test"), TestPki.writeCerts(dir.resolve("api.crt"), api.cert()),
                        TestPki.writePkcs8(dir.resolve("api.key"), api.key()), null),
                new SniCertificate(List.of("*.wild.test"), TestPki.writePkcs12(dir.resolve("wild.p12"), "pw",
                        wild.key(), wild.cert()), null, "pw"));
        ServerTls tls = ServerTlsContexts.build(pem(TlsVersion.TLS_1_2, ClientAuth.NONE, null, sni), H2_AND_H1);
        assertThat(tls.usesSni()).isTrue();
        try (TlsTestServer server = new TlsTestServer(tls)) {
            assertThat(sans(new JdkTlsClient().sni("api.test").connect(server.port()))).containsExactly("api.test");
            assertThat(sans(new JdkTlsClient().sni("API.test").connect(server.port()))).containsExactly("api.test");
            assertThat(sans(new JdkTlsClient().sni("a.wild.test").connect(server.port())))
                    .containsExactly("*.wild.test");
            assertThat(sans(new JdkTlsClient().sni("other.test").connect(server.port())))
                    .containsExactly("main.test");
            assertThat(sans(new JdkTlsClient().connect(server.port()))).containsExactly("main.test");
            // ALPN still works behind the SNI dispatch.
            assertThat(new JdkTlsClient().sni("api.test").alpn("h2").connect(server.port()).alpn()).isEqualTo("h2");
        }
    }

    @ParameterizedTest
    @MethodSource("io.h3relay.tls.Providers#available")
    void clientAuthRequireChecksClientCa(String provider) throws Exception {
        Providers.use(provider);
        TestPki.Issued clientCa = TestPki.ca("Client CA");
        Path clientCaFile = TestPki.writeCerts(dir.resolve("client-ca.crt"), clientCa.cert());
        TestPki.Issued good = TestPki.client(clientCa, "alice");
        TestPki.Issued stranger = TestPki.client(TestPki.ca("Other CA"), "mallory");
        var require = pem(TlsVersion.TLS_1_2, ClientAuth.REQUIRE, clientCaFile, List.of());
        try (TlsTestServer server = new TlsTestServer(ServerTlsContexts.build(require, H2_AND_H1))) {
            assertThat(new JdkTlsClient().clientCertificate(good).connect(server.port()).line()).startsWith("ok");
            assertThatThrownBy(() -> new JdkTlsClient().connect(server.port())).isInstanceOf(java.io.IOException.class);
            assertThatThrownBy(() -> new JdkTlsClient().clientCertificate(stranger).connect(server.port()))
                    .isInstanceOf(java.io.IOException.class);
            assertThatThrownBy(() -> new JdkTlsClient().protocols("TLSv1.2").connect(server.port()))
                    .isInstanceOf(java.io.IOException.class);
        }
        var optional = pem(TlsVersion.TLS_1_2, ClientAuth.OPTIONAL, clientCaFile, List.of());
        try (TlsTestServer server = new TlsTestServer(ServerTlsContexts.build(optional, H2_AND_H1))) {
            assertThat(new JdkTlsClient().connect(server.port()).line()).startsWith("ok");
            assertThat(new JdkTlsClient().clientCertificate(good).connect(server.port()).line()).startsWith("ok");
        }
    }

    private static List<String> sans(JdkTlsClient.Outcome outcome) {
        return SubjectNames.dnsNames(outcome.peer());
    }
}
