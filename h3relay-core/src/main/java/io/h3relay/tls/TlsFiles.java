package io.h3relay.tls;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Reads certificates and keys named in the config into JCA objects, so every TLS context (downstream,
 * upstream, either engine) is built from the same parsed material and every failure becomes one
 * {@link TlsConfigException} naming the config path and the file.
 *
 * <p>BouncyCastle's PEMParser is used instead of Netty's PEM reader because it also accepts the
 * traditional "BEGIN EC PRIVATE KEY" / "BEGIN RSA PRIVATE KEY" blocks that openssl and many CAs emit,
 * and skips the text openssl puts around blocks. Conversion uses the JDK's providers, not BC's.
 */
public final class TlsFiles {

    /** A private key with its certificate chain, leaf first. */
    public record KeyMaterial(PrivateKey key, List<X509Certificate> chain) {
        public KeyMaterial {
            chain = List.copyOf(chain);
        }

        public X509Certificate leaf() {
            return chain.get(0);
        }
    }

    private TlsFiles() {
    }

    /** Every certificate in a PEM file, in file order; at least one. */
    public static List<X509Certificate> readCertificates(Path file, String configPath) throws TlsConfigException {
        List<X509Certificate> certs = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        try (PEMParser parser = new PEMParser(reader(file, configPath))) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                if (o instanceof X509CertificateHolder holder) {
                    certs.add(converter.getCertificate(holder));
                }
            }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw fail(configPath, file, "not a valid PEM certificate file (" + reason(e) + ")", e);
        }
        if (certs.isEmpty()) {
            throw fail(configPath, file, "no PEM certificate found (expected a BEGIN CERTIFICATE block)", null);
        }
        return certs;
    }

    /** The first private key in a PEM file: PKCS#8 ("BEGIN PRIVATE KEY") or traditional EC / RSA. */
    public static PrivateKey readPrivateKey(Path file, String configPath) throws TlsConfigException {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try (PEMParser parser = new PEMParser(reader(file, configPath))) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                if (o instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info);
                }
                if (o instanceof PEMKeyPair pair) {
                    // Only the private part: an "EC PRIVATE KEY" may omit its public key.
                    return converter.getPrivateKey(pair.getPrivateKeyInfo());
                }
                if (o instanceof PKCS8EncryptedPrivateKeyInfo || o instanceof PEMEncryptedKeyPair) {
                    throw fail(configPath, file, "encrypted private keys are not supported"
                            + " (decrypt it with `openssl pkey -in KEY -out KEY.plain` or use a PKCS#12 file)", null);
                }
                // Anything else (an "EC PARAMETERS" block, a certificate) is skipped.
            }
        } catch (IOException | RuntimeException e) {
            throw fail(configPath, file, "not a valid PEM private key file (" + reason(e) + ")", e);
        }
        throw fail(configPath, file, "no PEM private key found (expected BEGIN PRIVATE KEY,"
                + " BEGIN EC PRIVATE KEY or BEGIN RSA PRIVATE KEY)", null);
    }

    /** A PEM chain and its key, checked to belong together. */
    public static KeyMaterial readPem(Path certificate, String certificatePath, Path privateKey, String privateKeyPath)
            throws TlsConfigException {
        if (privateKey == null) {
            throw new TlsConfigException(privateKeyPath + ": required with a PEM certificate (" + certificate + ")");
        }
        List<X509Certificate> chain = readCertificates(certificate, certificatePath);
        PrivateKey key = readPrivateKey(privateKey, privateKeyPath);
        if (!keyMatches(key, chain.get(0))) {
            throw new TlsConfigException(privateKeyPath + ": private key " + privateKey
                    + " does not match the certificate " + certificate + " (" + certificatePath + ")");
        }
        return new KeyMaterial(key, chain);
    }

    /** The first key entry of a PKCS#12 file; a null or empty password opens an unprotected store. */
    public static KeyMaterial readPkcs12(Path file, String password, String configPath, String passwordPath)
            throws TlsConfigException {
        byte[] bytes = read(file, configPath);
        char[] pw = password == null ? new char[0] : password.toCharArray();
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(new ByteArrayInputStream(bytes), pw);
            for (String alias : Collections.list(store.aliases())) {
                if (!store.isKeyEntry(alias)) {
                    continue;
                }
                Key key = store.getKey(alias, pw);
                Certificate[] chain = store.getCertificateChain(alias);
                if (key instanceof PrivateKey privateKey && chain != null && chain.length > 0) {
                    List<X509Certificate> certs = new ArrayList<>();
                    for (Certificate c : chain) {
                        certs.add((X509Certificate) c);
                    }
                    return new KeyMaterial(privateKey, certs);
                }
            }
        } catch (UnrecoverableKeyException e) {
            throw wrongPassword(configPath, file, passwordPath, e);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw wrongPassword(configPath, file, passwordPath, e);
            }
            throw fail(configPath, file, "not a valid PKCS#12 file (" + reason(e) + ")", e);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw fail(configPath, file, "not a valid PKCS#12 file (" + reason(e) + ")", e);
        }
        throw fail(configPath, file, "PKCS#12 file holds no private key with a certificate chain", null);
    }

    /**
     * Proves the key belongs to the certificate by signing with one and verifying with the other; this
     * works for every key type without comparing algorithm-specific parameters.
     */
    static boolean keyMatches(PrivateKey key, X509Certificate leaf) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            case "Ed448" -> "Ed448";
            default -> null;
        };
        if (algorithm == null) {
            return true; // unknown key type: leave the check to the TLS engine
        }
        try {
            byte[] probe = "h3relay key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false; // e.g. an RSA key next to an EC certificate
        }
    }

    private static Reader reader(Path file, String configPath) throws TlsConfigException {
        return new InputStreamReader(new ByteArrayInputStream(read(file, configPath)), StandardCharsets.US_ASCII);
    }

    private static byte[] read(Path file, String configPath) throws TlsConfigException {
        if (file == null) {
            throw new TlsConfigException(configPath + ": required");
        }
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw fail(configPath, file, "file not found", e);
        } catch (AccessDeniedException e) {
            throw fail(configPath, file, "permission denied", e);
        } catch (IOException e) {
            throw fail(configPath, file, "cannot read (" + reason(e) + ")", e);
        }
    }

    private static TlsConfigException wrongPassword(String configPath, Path file, String passwordPath, Exception e) {
        return fail(configPath, file, "cannot open PKCS#12 file: wrong password (" + passwordPath + ")", e);
    }

    private static TlsConfigException fail(String configPath, Path file, String what, Throwable cause) {
        return new TlsConfigException(configPath + ": " + file + ": " + what, cause);
    }

    private static String reason(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }
}
