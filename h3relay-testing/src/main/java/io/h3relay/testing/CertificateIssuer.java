package io.h3relay.testing;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Builds the certificates of {@link TestCertificates} with BouncyCastle's builders. No BC provider
 * is registered or named: the JDK's providers generate keys and sign, so the result is what any
 * JDK, OpenSSL or BoringSSL verifier accepts without extra setup.
 */
final class CertificateIssuer {

  private static final SecureRandom RANDOM = new SecureRandom();
  // Short, so Chromium's 398-day maximum never matters; backdated against clock skew between tools.
  private static final Duration VALIDITY = Duration.ofDays(90);
  private static final Duration BACKDATE = Duration.ofHours(1);

  private CertificateIssuer() {}

  static KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return generator.generateKeyPair();
  }

  static X509Certificate ca(KeyPair keys) throws GeneralSecurityException {
    X500Name name = new X500Name("CN=h3relay test CA");
    X509v3CertificateBuilder builder = builder(name, name, keys.getPublic());
    try {
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(keys.getPublic()));
    } catch (CertIOException e) {
      throw new CertificateException(e);
    }
    return sign(builder, keys.getPrivate());
  }

  /** A server certificate; IP literals among {@code names} become IP SANs, the rest DNS SANs. */
  static X509Certificate leaf(X509Certificate ca, PrivateKey caKey, PublicKey key, List<String> names)
      throws GeneralSecurityException {
    GeneralName[] sans = names.stream()
        .map(n -> new GeneralName(isIpLiteral(n) ? GeneralName.iPAddress : GeneralName.dNSName, n))
        .toArray(GeneralName[]::new);
    X509v3CertificateBuilder builder = endEntity(ca, key, "CN=" + names.getFirst(), KeyPurposeId.id_kp_serverAuth);
    try {
      builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
    } catch (CertIOException e) {
      throw new CertificateException(e);
    }
    return sign(builder, caKey);
  }

  static X509Certificate client(X509Certificate ca, PrivateKey caKey, PublicKey key)
      throws GeneralSecurityException {
    return sign(endEntity(ca, key, "CN=h3relay test client", KeyPurposeId.id_kp_clientAuth), caKey);
  }

  private static X509v3CertificateBuilder endEntity(X509Certificate ca, PublicKey key, String subject,
      KeyPurposeId purpose) throws GeneralSecurityException {
    X509v3CertificateBuilder builder =
        builder(X500Name.getInstance(ca.getSubjectX500Principal().getEncoded()), new X500Name(subject), key);
    try {
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose))
          .addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(key))
          .addExtension(Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(ca));
    } catch (CertIOException e) {
      throw new CertificateException(e);
    }
    return builder;
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, PublicKey key) {
    Instant now = Instant.now();
    // Positive 64-bit random serials: unique enough, and valid per RFC 5280 (at most 20 octets).
    BigInteger serial = new BigInteger(64, RANDOM).add(BigInteger.ONE);
    return new JcaX509v3CertificateBuilder(issuer, serial, Date.from(now.minus(BACKDATE)),
        Date.from(now.plus(VALIDITY)), subject, key);
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey issuerKey)
      throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  // Decides by syntax only: resolving a name to find out would do a DNS lookup.
  private static boolean isIpLiteral(String name) {
    return name.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}") || name.contains(":");
  }
}
