package io.h3relay.tls;

import io.h3relay.tls.TlsFiles;
import io.h3relay.tls.SubjectNames;
import io.h3relay.tls.ServerTlsContexts;
import io.h3relay.tls.DevCertificates;
import io.h3relay.config.TlsServerConfig;
import io.h3relay.config.TlsServerConfig.ClientAuth;
import io.h3relay.config.TlsServerConfig.TlsVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class DevCertificatesTest {
    @TempDir
    Path dir;

    @Test
    void generatesSelfSignedServerCertificateWithSans() throws Exception {
        DevCertificates.Result result = DevCertificates.generate(List.of("localhost", "127.0.0.1", "::1"), dir);

        assertThat(result.certificate()).isEqualTo(dir.resolve("localhost.crt"));
        assertThat(result.privateKey()).isEqualTo(dir.resolve("localhost.key"));
        assertThat(result.generated()).isTrue();
        assertThat(result.privateKey()).content().startsWith("-----BEGIN PRIVATE KEY-----");

        // Parsed back from the files, as the server would.
        TlsFiles.KeyMaterial read = TlsFiles.readPem(result.certificate(), "certificate", result.privateKey(), "key");
        X509Certificate cert = read.leaf();
        assertThat(cert).isEqualTo(result.x509());
        assertThat(read.key().getAlgorithm()).isEqualTo("EC");
        assertThat(SubjectNames.dnsNames(cert)).containsExactly("localhost");
        assertThat(SubjectNames.ipAddresses(cert)).hasSize(2);
        assertThat(SubjectNames.covers(cert, List.of("localhost", "127.0.0.1", "0:0:0:0:0:0:0:1"))).isTrue();
        cert.verify(cert.getPublicKey()); // self-signed
        assertThat(cert.getBasicConstraints()).isEqualTo(-1);
        assertThat(cert.getKeyUsage()[0]).isTrue(); // digitalSignature
        assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1"); // serverAuth
        assertThat(cert.getNotBefore().toInstant()).isCloseTo(Instant.now().minus(Duration.ofDays(1)), within(Duration.ofMinutes(5)));
        assertThat(cert.getNotAfter().toInstant()).isCloseTo(Instant.now().plus(Duration.ofDays(365)), within(Duration.ofMinutes(5)));
        if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(result.privateKey())))
                    .isEqualTo("rw-------");
        }
    }

    @Test
    void ensureReusesValidFiles() throws Exception {
        DevCertificates.Result first = DevCertificates.ensure(List.of("dev.test", "127.0.0.1"), dir);
        byte[] cert = Files.readAllBytes(first.certificate());
        byte[] key = Files.readAllBytes(first.privateKey());

        DevCertificates.Result second = DevCertificates.ensure(List.of("dev.test", "127.0.0.1"), dir);

        assertThat(first.generated()).isTrue();
        assertThat(second.generated()).isFalse();
        assertThat(second.certificate()).isEqualTo(first.certificate());
        assertThat(Files.readAllBytes(second.certificate())).isEqualTo(cert);
        assertThat(Files.readAllBytes(second.privateKey())).isEqualTo(key);
    }

    @Test
    void ensureRegeneratesWhenNamesAreNotCovered() throws Exception {
        DevCertificates.Result first = DevCertificates.ensure(List.of("dev.test"), dir);
        DevCertificates.Result second = DevCertificates.ensure(List.of("dev.test", "10.0.0.1"), dir);
        assertThat(second.generated()).isTrue();
        assertThat(second.x509()).isNotEqualTo(first.x509());
        assertThat(SubjectNames.covers(second.x509(), List.of("dev.test", "10.0.0.1"))).isTrue();
    }

    @Test
    void ensureRegeneratesWhenKeyIsDamagedOrForeign() throws Exception {
        DevCertificates.Result first = DevCertificates.ensure(List.of("dev.test"), dir);
        Files.writeString(first.privateKey(), "garbage");
        assertThat(DevCertificates.ensure(List.of("dev.test"), dir).generated()).isTrue();

        TestPki.writePkcs8(first.privateKey(), TestPki.ecKey().getPrivate());
        assertThat(DevCertificates.ensure(List.of("dev.test"), dir).generated()).isTrue();
    }

    @Test
    void wildcardNamesGetSafeFileNames() throws Exception {
        DevCertificates.Result result = DevCertificates.generate(List.of("*.dev.test"), dir);
        assertThat(result.certificate().getFileName()).hasToString("_wildcard.dev.test.crt");
        assertThat(SubjectNames.dnsNames(result.x509())).containsExactly("*.dev.test");
    }

    @Test
    void spkiHashIsBase64Sha256OfPublicKey() throws Exception {
        X509Certificate cert = DevCertificates.generate(List.of("localhost"), dir).x509();
        byte[] expected = MessageDigest.getInstance("SHA-256").digest(cert.getPublicKey().getEncoded());
        String spki = DevCertificates.spkiSha256Base64(cert);
        assertThat(spki).hasSize(44);
        assertThat(Base64.getDecoder().decode(spki)).isEqualTo(expected);
    }

    @Test
    void generatedCertificateServesTls() throws Exception {
        DevCertificates.Result dev = DevCertificates.generate(List.of("localhost", "127.0.0.1"), dir);
        var cfg = new TlsServerConfig(dev.certificate(), dev.privateKey(), null, TlsVersion.TLS_1_2,
                ClientAuth.NONE, null, List.of());
        try (TlsTestServer server = new TlsTestServer(ServerTlsContexts.build(cfg, List.of("h2", "http/1.1")))) {
            JdkTlsClient.Outcome outcome = new JdkTlsClient().alpn("h2").sni("localhost").connect(server.port());
            assertThat(outcome.peer()).isEqualTo(dev.x509());
            assertThat(outcome.alpn()).isEqualTo("h2");
        }
    }
}
