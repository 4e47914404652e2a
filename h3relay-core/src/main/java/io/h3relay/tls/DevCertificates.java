package io.h3relay.tls;

import io.netty.util.NetUtil;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;

/**
 * Self-signed certificates for development and demos ({@code h3relay demo}, {@code h3relay cert}):
 * an EC P-256 key and a one-year leaf certificate for the given host names and IP addresses, written
 * as PEM. Signing goes through the JDK's providers; BouncyCastle only assembles the certificate.
 * Browsers will not trust these; Chromium can be told to via {@link #spkiSha256Base64}.
 */
public final class DevCertificates {
    /** Where the files are and what they hold; {@code generated} is false when {@link #ensure} reused them. */
    public record Result(Path certificate, Path privateKey, X509Certificate x509, boolean generated) {
        @Override
        public String toString() {
            // The certificate's own toString is a page of hex; logs want the files and the pin.
            return (generated ? "generated " : "reused ") + certificate + " + " + privateKey
                    + " (spki sha256 " + spkiSha256Base64(x509) + ", expires " + x509.getNotAfter().toInstant() + ")";
        }
    }

    static final Duration VALIDITY = Duration.ofDays(365);
    /** Back-dated so a client whose clock runs a little behind still accepts a fresh certificate. */
    static final Duration BACKDATE = Duration.ofDays(1);
    /** ensure() replaces a certificate this close to expiry, so a long demo does not hit it. */
    static final Duration RENEW_BEFORE = Duration.ofDays(7);

    private static final SecureRandom random = new SecureRandom();

    private DevCertificates() {
    }

    /** Generates a new key and certificate into {@code outDir} (created if needed), replacing old files. */
    public static Result generate(List<String> hostNames, Path outDir) throws IOException {
        if (hostNames.isEmpty()) {
            throw new IllegalArgumentException("at least one host name is required");
        }
        KeyPair keys = newKeyPair();
        X509Certificate cert = selfSign(hostNames, keys);
        Path certFile = outDir.resolve(baseName(hostNames.get(0)) + ".crt");
        Path keyFile = outDir.resolve(baseName(hostNames.get(0)) + ".key");
        Files.createDirectories(outDir);
        try {
            PemOutput.writePrivate(keyFile, "PRIVATE KEY", keys.getPrivate().getEncoded());
            PemOutput.writePublic(certFile, "CERTIFICATE", cert.getEncoded());
        } catch (CertificateException e) {
            throw new IllegalStateException("cannot encode a certificate just generated", e);
        }
        return new Result(certFile, keyFile, cert, true);
    }

    /**
     * Reuses the certificate and key in {@code stateDir} when both exist, parse, belong together, cover
     * every name and stay valid for at least {@link #RENEW_BEFORE}; otherwise generates new ones.
     * Reusing matters: a browser exception or pinned SPKI hash survives restarts.
     */
    public static Result ensure(List<String> hostNames, Path stateDir) throws IOException {
        if (hostNames.isEmpty()) {
            throw new IllegalArgumentException("at least one host name is required");
        }
        Path certFile = stateDir.resolve(baseName(hostNames.get(0)) + ".crt");
        Path keyFile = stateDir.resolve(baseName(hostNames.get(0)) + ".key");
        if (Files.isRegularFile(certFile) && Files.isRegularFile(keyFile)) {
            try {
                TlsFiles.KeyMaterial existing = TlsFiles.readPem(certFile, "certificate", keyFile, "private_key");
                X509Certificate cert = existing.leaf();
                boolean fresh = cert.getNotAfter().toInstant().isAfter(Instant.now().plus(RENEW_BEFORE));
                if (fresh && SubjectNames.covers(cert, hostNames)) {
                    return new Result(certFile, keyFile, cert, false);
                }
            } catch (TlsConfigException e) {
                // Unreadable or mismatched leftovers: replace them.
            }
        }
        return generate(hostNames, stateDir);
    }

    /**
     * Base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo: the value Chromium's
     * {@code --ignore-certificate-errors-spki-list} and HPKP-style pins expect.
     */
    public static String spkiSha256Base64(X509Certificate cert) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(cert.getPublicKey().getEncoded());
            return Base64.getEncoder().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is missing from the JDK", e);
        }
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), random);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot generate EC P-256 keys", e);
        }
    }

    private static X509Certificate selfSign(List<String> hostNames, KeyPair keys) {
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, "h3relay development")
                .addRDN(BCStyle.CN, hostNames.get(0))
                .build();
        Instant now = Instant.now();
        // 127 random bits: unique enough, and positive as RFC 5280 requires.
        BigInteger serial = new BigInteger(127, random).add(BigInteger.ONE);
        List<GeneralName> names = new ArrayList<>();
        for (String host : hostNames) {
            byte[] ip = NetUtil.createByteArrayFromIpAddressString(host);
            names.add(ip != null
                    ? new GeneralName(GeneralName.iPAddress, new DEROctetString(ip))
                    : new GeneralName(GeneralName.dNSName, host));
        }
        try {
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial,
                    Date.from(now.minus(BACKDATE)), Date.from(now.plus(VALIDITY)), subject, keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                    .addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(names.toArray(GeneralName[]::new)));
            var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate());
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (IOException | OperatorCreationException | CertificateException e) {
            throw new IllegalStateException("cannot build a self-signed certificate for " + hostNames, e);
        }
    }

    /** A file name for a host: "*.example.com" becomes "_wildcard.example.com", "::1" becomes "__1". */
    static String baseName(String host) {
        return host.replace("*", "_wildcard").replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
