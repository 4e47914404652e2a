package io.h3relay.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A throwaway PKI for TLS tests, written as PEM files into a directory: one CA, a server leaf
 * certificate for the given names, and a client certificate for mTLS, all EC P-256 and signed by
 * the CA. See {@link CertificateIssuer} for how they are built.
 *
 * <p>Files in the directory: {@code ca.pem}; {@code cert.pem} (leaf then CA) and {@code key.pem}
 * (PKCS#8); {@code client-cert.pem} (client then CA) and {@code client-key.pem} (PKCS#8).
 */
public final class TestCertificates {

  private final Path dir;
  private final X509Certificate caCert;
  private final X509Certificate leafCert;
  private final PrivateKey leafKey;
  private final X509Certificate clientCert;
  private final PrivateKey clientKey;

  private TestCertificates(Path dir, X509Certificate caCert, X509Certificate leafCert, PrivateKey leafKey,
      X509Certificate clientCert, PrivateKey clientKey) {
    this.dir = dir;
    this.caCert = caCert;
    this.leafCert = leafCert;
    this.leafKey = leafKey;
    this.clientCert = clientCert;
    this.clientKey = clientKey;
  }

  /**
   * Creates the CA, leaf and client certificates and writes them into {@code dir} (created if
   * missing). Names that are IP literals become IP SANs, the rest DNS SANs; with no names the leaf
   * is for {@code localhost} and {@code 127.0.0.1}.
   */
  public static TestCertificates create(Path dir, String... names) {
    List<String> sans = names.length == 0 ? List.of("localhost", "127.0.0.1") : List.of(names);
    try {
      Files.createDirectories(dir);
      KeyPair caKeys = CertificateIssuer.newKeyPair();
      X509Certificate ca = CertificateIssuer.ca(caKeys);
      KeyPair leafKeys = CertificateIssuer.newKeyPair();
      X509Certificate leaf = CertificateIssuer.leaf(ca, caKeys.getPrivate(), leafKeys.getPublic(), sans);
      KeyPair clientKeys = CertificateIssuer.newKeyPair();
      X509Certificate client = CertificateIssuer.client(ca, caKeys.getPrivate(), clientKeys.getPublic());
      TestCertificates certs = new TestCertificates(dir, ca, leaf, leafKeys.getPrivate(), client,
          clientKeys.getPrivate());
      certs.writePems();
      return certs;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot create test certificates", e);
    }
  }

  private void writePems() throws IOException, GeneralSecurityException {
    Files.writeString(caCertPath(), pem("CERTIFICATE", caCert.getEncoded()), StandardCharsets.US_ASCII);
    Files.writeString(certPath(), pem("CERTIFICATE", leafCert.getEncoded())
        + pem("CERTIFICATE", caCert.getEncoded()), StandardCharsets.US_ASCII);
    // JDK keys encode as PKCS#8 PrivateKeyInfo, which is what "PRIVATE KEY" PEM holds.
    Files.writeString(keyPath(), pem("PRIVATE KEY", leafKey.getEncoded()), StandardCharsets.US_ASCII);
    Files.writeString(clientCertPath(), pem("CERTIFICATE", clientCert.getEncoded())
        + pem("CERTIFICATE", caCert.getEncoded()), StandardCharsets.US_ASCII);
    Files.writeString(clientKeyPath(), pem("PRIVATE KEY", clientKey.getEncoded()), StandardCharsets.US_ASCII);
  }

  private static String pem(String type, byte[] der) {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }

  public Path dir() {
    return dir;
  }

  public Path caCertPath() {
    return dir.resolve("ca.pem");
  }

  /** The leaf certificate followed by the CA certificate. */
  public Path certPath() {
    return dir.resolve("cert.pem");
  }

  /** The leaf's private key, unencrypted PKCS#8. */
  public Path keyPath() {
    return dir.resolve("key.pem");
  }

  /** The client certificate followed by the CA certificate. */
  public Path clientCertPath() {
    return dir.resolve("client-cert.pem");
  }

  public Path clientKeyPath() {
    return dir.resolve("client-key.pem");
  }

  public X509Certificate caCert() {
    return caCert;
  }

  public X509Certificate leafCert() {
    return leafCert;
  }

  public PrivateKey leafKey() {
    return leafKey;
  }

  /** Leaf then CA, the chain a server presents. */
  public X509Certificate[] leafChain() {
    return new X509Certificate[] {leafCert, caCert};
  }

  public X509Certificate clientCert() {
    return clientCert;
  }

  public PrivateKey clientKey() {
    return clientKey;
  }

  /**
   * Base64 of the sha-256 of the leaf's SubjectPublicKeyInfo, the form Chromium's
   * {@code --ignore-certificate-errors-spki-list} takes.
   */
  public String spkiSha256Base64() {
    // PublicKey.getEncoded() of an X.509 key is exactly its DER SubjectPublicKeyInfo.
    return Base64.getEncoder().encodeToString(BodyPattern.sha256().digest(leafCert.getPublicKey().getEncoded()));
  }

  /** Writes the leaf key and chain as a PKCS#12 keystore under alias {@code h3relay}. */
  public void writePkcs12(Path file, char[] password) {
    try (OutputStream out = Files.newOutputStream(file)) {
      keyStore(leafKey, leafChain(), password).store(out, password);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot write " + file, e);
    }
  }

  /** A client {@link SSLContext} that trusts only this CA. */
  public SSLContext trustingSslContext() {
    return sslContext(false);
  }

  /** Like {@link #trustingSslContext()}, and presents the client certificate when asked (mTLS). */
  public SSLContext clientAuthSslContext() {
    return sslContext(true);
  }

  private SSLContext sslContext(boolean withClientCert) {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("ca", caCert);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      KeyManagerFactory kmf = null;
      if (withClientCert) {
        char[] password = "unused".toCharArray();
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keyStore(clientKey, new Certificate[] {clientCert, caCert}, password), password);
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build SSLContext", e);
    }
  }

  private static KeyStore keyStore(PrivateKey key, Certificate[] chain, char[] password)
      throws IOException, GeneralSecurityException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry("h3relay", key, password, chain);
    return store;
  }
}
