package io.h3relay.tls;

import io.h3relay.tls.TlsConfigException;
import io.h3relay.tls.ServerTlsContexts;
import io.h3relay.config.TlsServerConfig;
import io.h3relay.config.TlsServerConfig.ClientAuth;
import io.h3relay.config.TlsServerConfig.SniCertificate;
import io.h3relay.config.TlsServerConfig.TlsVersion;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bad TLS material fails at build time with one message naming the config path and the file. */
class ServerTlsContextsErrorsTest {
    private static final List<String> ALPN = List.of("h2", "http/1.1");

    @TempDir
    static Path dir;
    static TestPki.Issued main;
    static Path cert;
    static Path key;

    @BeforeAll
    static void pki() throws Exception {
        TestPki.Issued ca = TestPki.ca("Test CA");
        main = TestPki.server(ca, "main.test");
        cert = TestPki.writeCerts(dir.resolve("main.crt"), main.cert());
        key = TestPki.writePkcs8(dir.resolve("main.key"), main.key());
    }

    private static TlsServerConfig cfg(Path certificate, Path privateKey, String password) {
        return new TlsServerConfig(certificate, privateKey, password, TlsVersion.TLS_1_2, ClientAuth.NONE, null, List.of());
    }

    @Test
    void missingCertificateFile() {
        Path missing = dir.resolve("nope.crt");
        assertThatThrownBy(() -> ServerTlsContexts.build(cfg(missing, key, null), ALPN, "listeners[0].tls"))
                .isInstanceOf(TlsConfigException.class)
                .hasMessage("listeners[0].tls.certificate: " + missing + ": file not found");
    }

    @Test
    void certificateFileWithoutPem() throws Exception {
        Path junk = Files.writeString(dir.resolve("junk.crt"), "hello, not a certificate\n");
        assertThatThrownBy(() -> ServerTlsContexts.build(cfg(junk, key, null), ALPN))
                .isInstanceOf(TlsConfigException.class)
                .hasMessage("tls.certificate: " + junk + ": no PEM certificate found (expected a BEGIN CERTIFICATE block)");
    }

    @Test
    void corruptPemBlock() throws Exception {
        Path corrupt = Files.writeString(dir.resolve("corrupt.crt"),
                "-----BEGIN CERTIFICATE-----\nAAAA!!!!\n-----END CERTIFICATE-----\n");
        assertThatThrownBy(() -> ServerTlsContexts.build(cfg(corrupt, key, null), ALPN))
                .isInstanceOf(TlsConfigException.class)
                .hasMessageStartingWith("tls.certificate: " + corrupt + ": not a valid PEM certificate file (");
    }

    @Test
    void keyFileWithoutKey() {
        assertThatThrownBy(() -> ServerTlsContexts.build(cfg(cert, cert, null), ALPN))
                .isInstanceOf(TlsConfigException.class)
                .hasMessageStartingWith("tls.private_key: " + cert + ": no PEM private key found");
    }

    @Test
    void missingPrivateKeySetting() {
        assertThatThrownBy(() -> ServerTlsContexts.build(cfg(cert, null, null), ALPN))
                .isInstanceOf(TlsConfigException.class)
                .hasMessage("tls.private_key: required with a PEM certificate (" + cert + ")");
    }

    @Test
    void keyNotMatchingCertificate() throws Exception {
        Path other = TestPki.writePkcs8(dir.resolve("other.key"), TestPki.ecKey().getPrivate());
        Path rsa = TestPki.writeTraditional(dir.resolve("rsa.key"), TestPki.rsaKey());
        for (Path wrong : List.of(other, rsa)) {
            assertThatThrownBy(() -> ServerTlsContexts.build(cfg(cert, wrong, null), ALPN))
                    .isInstanceOf(TlsConfigException.class)
                    .hasMessage("tls.private_key: private key " + wrong + " does not match the certificate "
                            + cert + " (tls.certificate)");
        }
    }

    @Test
    void wrongPkcs12Password() throws Exception {
        Path p12 = TestPki.writePkcs12(dir.resolve("main.p12"), "right", main.key(), main.cert());
        for (String wrong : new String[] {"wrong", null}) {
            assertThatThrownBy(() -> ServerTlsContexts.build(cfg(p12, null, wrong), ALPN))
                    .isInstanceOf(TlsConfigException.class)
                    .hasMessage("tls.certificate: " + p12 + ": cannot open PKCS#12 file: wrong password (tls.password)");
        }
    }

    @Test
    void pkcs12ThatIsNotPkcs12() throws Exception {
        Path fake = Files.copy(cert, dir.resolve("fake.p12"));
        assertThatThrownBy(() -> ServerTlsContexts.build(cfg(fake, null, "x"), ALPN))
                .isInstanceOf(TlsConfigException.class)
                .hasMessageStartingWith("tls.certificate: " + fake + ": not a valid PKCS#12 file (");
    }

    @Test
    void clientAuthWithoutClientCa() {
        var cfg = new TlsServerConfig(cert, key, null, TlsVersion.TLS_1_2, ClientAuth.REQUIRE, null, List.of());
        assertThatThrownBy(() -> ServerTlsContexts.build(cfg, ALPN))
                .isInstanceOf(TlsConfigException.class)
                .hasMessage("tls.client_ca: required when client_auth is require");
    }

    @Test
    void sniEntryErrorsNameTheEntry() {
        Path missing = dir.resolve("api.crt");
        var sni = List.of(new SniCertificate(List.of("api.test"), missing, key, null));
        var cfg = new TlsServerConfig(cert, key, null, TlsVersion.TLS_1_2, ClientAuth.NONE, null, sni);
        assertThatThrownBy(() -> ServerTlsContexts.build(cfg, ALPN, "listeners[1].tls"))
                .isInstanceOf(TlsConfigException.class)
                .hasMessage("listeners[1].tls.sni[0].certificate: " + missing + ": file not found");
    }
}
