package io.h3relay.config;

import java.nio.file.Path;
import java.util.List;

/**
 * Downstream TLS. {@code certificate} is a PEM chain (with {@code privateKey}) or a PKCS#12 keystore
 * (.p12/.pfx, with {@code password}; then {@code privateKey} is null). Paths are resolved against the
 * config file's folder by the loader.
 */
public record TlsServerConfig(
        Path certificate,
        Path privateKey,
        String password,
        TlsVersion minVersion,
        ClientAuth clientAuth,
        Path clientCa,
        List<SniCertificate> sni) {

    public TlsServerConfig {
        sni = List.copyOf(sni);
    }

    public enum TlsVersion { TLS_1_2, TLS_1_3 }

    public enum ClientAuth { NONE, OPTIONAL, REQUIRE }

    /** An extra certificate chosen when the client's SNI matches one of {@code serverNames} ("*.x" allowed). */
    public record SniCertificate(List<String> serverNames, Path certificate, Path privateKey, String password) {
        public SniCertificate {
            serverNames = List.copyOf(serverNames);
        }
    }

    public boolean isPkcs12() {
        String n = certificate.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return n.endsWith(".p12") || n.endsWith(".pfx");
    }
}
