package io.h3relay.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TestCertificatesTest {

  @TempDir
  Path dir;

  @Test
  void writesPemFilesForCaLeafAndClient() throws Exception {
    TestCertificates certs = TestCertificates.create(dir);

    assertThat(Files.readString(certs.keyPath())).startsWith("-----BEGIN PRIVATE KEY-----\n");
    assertThat(Files.readString(certs.clientKeyPath())).startsWith("-----BEGIN PRIVATE KEY-----\n");
    List<X509Certificate> chain = readCerts(certs.certPath());
    assertThat(chain).hasSize(2);
    X509Certificate ca = readCerts(certs.caCertPath()).getFirst();
    assertThat(ca).isEqualTo(certs.caCert()).isEqualTo(chain.get(1));
    chain.getFirst().verify(ca.getPublicKey());
    readCerts(certs.clientCertPath()).getFirst().verify(ca.getPublicKey());
    assertThat(ca.getBasicConstraints()).isGreaterThanOrEqualTo(0);
    assertThat(chain.getFirst().getBasicConstraints()).isEqualTo(-1);
    assertThat(chain.getFirst().getSubjectAlternativeNames())
        .containsExactlyInAnyOrder(List.of(2, "localhost"), List.of(7, "127.0.0.1"));
  }

  @Test
  void spkiPinIsTheSha256OfTheLeafPublicKeyInfo() throws Exception {
    TestCertificates certs = TestCertificates.create(dir, "example.test");
    X509Certificate leaf = readCerts(certs.certPath()).getFirst();

    byte[] expected = MessageDigest.getInstance("SHA-256").digest(leaf.getPublicKey().getEncoded());
    assertThat(certs.spkiSha256Base64()).isEqualTo(Base64.getEncoder().encodeToString(expected)).hasSize(44);
    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, "example.test"));
  }

  @Test
  void writesALoadablePkcs12() throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    Path p12 = dir.resolve("leaf.p12");
    char[] password = "changeit".toCharArray();

    certs.writePkcs12(p12, password);

    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(p12)) {
      store.load(in, password);
    }
    assertThat(store.getKey("h3relay", password)).isEqualTo(certs.leafKey());
    assertThat(store.getCertificateChain("h3relay")).containsExactly(certs.leafChain());
  }

  @Test
  void tlsEndpointIsTrustedByAClientThatTrustsTheCa() throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    try (TestEndpoint endpoint = TestEndpoint.startTls(certs);
        HttpClient client = client(sslContextTrusting(certs.caCertPath()))) {
      assertThat(endpoint.baseUrl()).startsWith("https://127.0.0.1:");

      HttpResponse<String> byIp = client.send(get(endpoint.baseUrl() + "/"), BodyHandlers.ofString());
      HttpResponse<String> byName =
          client.send(get("https://localhost:" + endpoint.port() + "/"), BodyHandlers.ofString());

      assertThat(byIp.body()).isEqualTo("endpoint " + endpoint.name());
      assertThat(byName.statusCode()).isEqualTo(200);
    }
  }

  @Test
  void tlsEndpointIsRejectedWithoutTheCa() throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    try (TestEndpoint endpoint = TestEndpoint.startTls(certs);
        HttpClient client = client(SSLContext.getDefault())) {
      assertThatThrownBy(() -> client.send(get(endpoint.baseUrl() + "/"), BodyHandlers.ofString()))
          .isInstanceOf(IOException.class);
    }
  }

  @Test
  void mtlsEndpointRequiresTheClientCertificate() throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    try (TestEndpoint endpoint = TestEndpoint.startTls("mtls", certs, true);
        HttpClient withCert = client(certs.clientAuthSslContext());
        HttpClient withoutCert = client(certs.trustingSslContext())) {
      assertThat(withCert.send(get(endpoint.baseUrl() + "/"), BodyHandlers.ofString()).body())
          .isEqualTo("endpoint mtls");
      assertThatThrownBy(() -> withoutCert.send(get(endpoint.baseUrl() + "/"), BodyHandlers.ofString()))
          .isInstanceOf(IOException.class);

      Curl.Response curl = Curl.to(endpoint.baseUrl() + "/").cacert(certs.caCertPath())
          .clientCert(certs.clientCertPath(), certs.clientKeyPath()).execute();
      assertThat(curl.status()).as(curl.stderr()).isEqualTo(200);
    }
  }

  // Built from the PEM file, not from TestCertificates' own helper, to check what tools would read.
  private static SSLContext sslContextTrusting(Path caPem) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", readCerts(caPem).getFirst());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return context;
  }

  private static List<X509Certificate> readCerts(Path pem) throws Exception {
    try (InputStream in = Files.newInputStream(pem)) {
      return CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
          .map(X509Certificate.class::cast).toList();
    }
  }

  private static HttpClient client(SSLContext sslContext) {
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(sslContext)
        .connectTimeout(Duration.ofSeconds(30)).build();
  }

  private static HttpRequest get(String url) {
    return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build();
  }
}
