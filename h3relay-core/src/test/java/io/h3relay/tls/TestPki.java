package io.h3relay.tls;

import io.h3relay.tls.PemOutput;
import io.netty.util.NetUtil;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
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
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.OutputStream;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** A tiny test CA: EC or RSA keys, CA and leaf certificates, and the file formats the config accepts. */
public final class TestPki {
    /** A key pair and the certificate issued for it. */
    public record Issued(KeyPair keys, X509Certificate cert) {
        public PrivateKey key() {
            return keys.getPrivate();
        }
    }

    private static final AtomicLong serials = new AtomicLong(System.nanoTime());

    private TestPki() {
    }

    public static KeyPair ecKey() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    public static KeyPair rsaKey() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    public static Issued ca(String commonName) throws Exception {
        KeyPair keys = ecKey();
        X500Name name = new X500Name("CN=" + commonName);
        X509v3CertificateBuilder builder = builder(name, name, keys)
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        return new Issued(keys, sign(builder, keys.getPrivate()));
    }

    /** A server certificate for {@code names} (IP literals become IP SANs). */
    public static Issued server(Issued issuer, KeyPair keys, String... names) throws Exception {
        return leaf(issuer, keys, KeyPurposeId.id_kp_serverAuth, names);
    }

    public static Issued server(Issued issuer, String... names) throws Exception {
        return server(issuer, ecKey(), names);
    }

    public static Issued client(Issued issuer, String commonName) throws Exception {
        return leaf(issuer, ecKey(), KeyPurposeId.id_kp_clientAuth, commonName);
    }

    private static Issued leaf(Issued issuer, KeyPair keys, KeyPurposeId purpose, String... names) throws Exception {
        List<GeneralName> sans = new ArrayList<>();
        for (String n : names) {
            byte[] ip = NetUtil.createByteArrayFromIpAddressString(n);
            sans.add(ip != null ? new GeneralName(GeneralName.iPAddress, new DEROctetString(ip))
                    : new GeneralName(GeneralName.dNSName, n));
        }
        X500Name issuerName = new X500Name(issuer.cert().getSubjectX500Principal().getName());
        X509v3CertificateBuilder builder = builder(issuerName, new X500Name("CN=" + names[0]), keys)
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(Extension.keyUsage, true,
                        new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose))
                .addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(sans.toArray(GeneralName[]::new)));
        return new Issued(keys, sign(builder, issuer.key()));
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(serials.incrementAndGet()),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(30))),
                subject, keys.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key) throws Exception {
        String algorithm = key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        return new JcaX509CertificateConverter()
                .getCertificate(builder.build(new JcaContentSignerBuilder(algorithm).build(key)));
    }

    public static Path writeCerts(Path file, X509Certificate... chain) throws Exception {
        StringBuilder pem = new StringBuilder();
        for (X509Certificate cert : chain) {
            pem.append(PemOutput.encode("CERTIFICATE", cert.getEncoded()));
        }
        return Files.writeString(file, pem);
    }

    /** PKCS#8, "BEGIN PRIVATE KEY". */
    public static Path writePkcs8(Path file, PrivateKey key) throws Exception {
        return Files.writeString(file, PemOutput.encode("PRIVATE KEY", key.getEncoded()));
    }

    /**
     * The traditional openssl form: "BEGIN EC PRIVATE KEY" or "BEGIN RSA PRIVATE KEY". EC keys are
     * written as openssl does, with the curve and the public key inside, which BC's writer leaves out
     * for JDK keys.
     */
    public static Path writeTraditional(Path file, KeyPair keys) throws Exception {
        if (keys.getPrivate().getAlgorithm().equals("EC")) {
            PrivateKeyInfo info = PrivateKeyInfo.getInstance(keys.getPrivate().getEncoded());
            ECPrivateKey inner = ECPrivateKey.getInstance(info.parsePrivateKey());
            ECPrivateKey full = new ECPrivateKey(256, inner.getKey(),
                    SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()).getPublicKeyData(),
                    info.getPrivateKeyAlgorithm().getParameters());
            return Files.writeString(file, PemOutput.encode("EC PRIVATE KEY", full.getEncoded()));
        }
        try (Writer out = Files.newBufferedWriter(file); JcaPEMWriter pem = new JcaPEMWriter(out)) {
            pem.writeObject(keys.getPrivate());
        }
        return file;
    }

    public static Path writePkcs12(Path file, String password, PrivateKey key, X509Certificate... chain)
            throws Exception {
        char[] pw = password == null ? new char[0] : password.toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("key", key, pw, chain);
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, pw);
        }
        return file;
    }
}
