package io.h3relay.tls;

import io.h3relay.config.TlsServerConfig;
import io.h3relay.config.TlsServerConfig.SniCertificate;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolConfig.Protocol;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.DomainWildcardMappingBuilder;

import javax.net.ssl.SSLException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;

/**
 * Builds the downstream TLS contexts of a TCP listener from its {@link TlsServerConfig}: the main
 * certificate, one context per SNI entry, protocol versions, client authentication and ALPN.
 * Everything is read and checked here, at config time, so a bad file fails the load or reload with a
 * {@link TlsConfigException} instead of failing handshakes later.
 */
public final class ServerTlsContexts {
    private ServerTlsContexts() {
    }

    /** As {@link #build(TlsServerConfig, List, String)} with config path "tls". */
    public static ServerTls build(TlsServerConfig cfg, List<String> alpn) throws TlsConfigException {
        return build(cfg, alpn, "tls");
    }

    /**
     * @param alpn       protocols in server preference order, e.g. ["h2", "http/1.1"]; empty disables ALPN
     * @param configPath where {@code cfg} sits in the config, e.g. "listeners[0].tls", for error messages
     */
    public static ServerTls build(TlsServerConfig cfg, List<String> alpn, String configPath)
            throws TlsConfigException {
        Settings settings = settings(cfg, alpn, configPath);
        TlsFiles.KeyMaterial main = cfg.isPkcs12()
                ? TlsFiles.readPkcs12(cfg.certificate(), cfg.password(), configPath + ".certificate",
                        configPath + ".password")
                : TlsFiles.readPem(cfg.certificate(), configPath + ".certificate",
                        cfg.privateKey(), configPath + ".private_key");
        SslContext defaultContext = context(main, settings, configPath);
        if (cfg.sni().isEmpty()) {
            return new ServerTls(defaultContext, null);
        }
        DomainWildcardMappingBuilder<SslContext> mapping = new DomainWildcardMappingBuilder<>(defaultContext);
        for (int i = 0; i < cfg.sni().size(); i++) {
            SniCertificate entry = cfg.sni().get(i);
            String entryPath = configPath + ".sni[" + i + "]";
            if (entry.serverNames().isEmpty()) {
                throw new TlsConfigException(entryPath + ".server_names: at least one name is required");
            }
            SslContext context = context(sniMaterial(entry, entryPath), settings, entryPath);
            for (String name : entry.serverNames()) {
                try {
                    mapping.add(name.toLowerCase(Locale.ROOT), context);
                } catch (IllegalArgumentException e) {
                    throw new TlsConfigException(entryPath + ".server_names: " + name
                            + " (expected a host name or \"*.\" followed by one)", e);
                }
            }
        }
        return new ServerTls(defaultContext, mapping.build());
    }

    /** What every context of one listener shares, checked once. */
    private record Settings(String[] protocols, ClientAuth clientAuth, List<X509Certificate> clientCa,
                            ApplicationProtocolConfig alpn) {}

    private static Settings settings(TlsServerConfig cfg, List<String> alpn, String configPath)
            throws TlsConfigException {
        String[] protocols = cfg.minVersion() == TlsServerConfig.TlsVersion.TLS_1_3
                ? new String[] {"TLSv1.3"}
                : new String[] {"TLSv1.3", "TLSv1.2"};
        TlsServerConfig.ClientAuth auth = cfg.clientAuth() == null ? TlsServerConfig.ClientAuth.NONE : cfg.clientAuth();
        ClientAuth clientAuth = switch (auth) {
            case NONE -> ClientAuth.NONE;
            case OPTIONAL -> ClientAuth.OPTIONAL;
            case REQUIRE -> ClientAuth.REQUIRE;
        };
        List<X509Certificate> clientCa = null;
        if (clientAuth != ClientAuth.NONE) {
            if (cfg.clientCa() == null) {
                throw new TlsConfigException(configPath + ".client_ca: required when client_auth is "
                        + auth.name().toLowerCase(Locale.ROOT));
            }
            clientCa = TlsFiles.readCertificates(cfg.clientCa(), configPath + ".client_ca");
        }
        return new Settings(protocols, clientAuth, clientCa, alpnConfig(alpn));
    }

    /**
     * NO_ADVERTISE + ACCEPT: a client whose ALPN list shares nothing with ours, or that sends none,
     * still gets a connection and is served HTTP/1.1, which is what browsers and curl expect.
     */
    static ApplicationProtocolConfig alpnConfig(List<String> alpn) {
        if (alpn == null || alpn.isEmpty()) {
            return ApplicationProtocolConfig.DISABLED;
        }
        return new ApplicationProtocolConfig(Protocol.ALPN, SelectorFailureBehavior.NO_ADVERTISE,
                SelectedListenerFailureBehavior.ACCEPT, alpn);
    }

    private static TlsFiles.KeyMaterial sniMaterial(SniCertificate entry, String entryPath)
            throws TlsConfigException {
        Path cert = entry.certificate();
        if (cert == null) {
            throw new TlsConfigException(entryPath + ".certificate: required");
        }
        String name = cert.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".p12") || name.endsWith(".pfx")) {
            return TlsFiles.readPkcs12(cert, entry.password(), entryPath + ".certificate", entryPath + ".password");
        }
        return TlsFiles.readPem(cert, entryPath + ".certificate", entry.privateKey(), entryPath + ".private_key");
    }

    private static SslContext context(TlsFiles.KeyMaterial material, Settings settings, String configPath)
            throws TlsConfigException {
        SslContextBuilder builder = SslContextBuilder.forServer(material.key(), material.chain())
                .sslProvider(TlsProviders.preferred())
                .protocols(settings.protocols())
                .clientAuth(settings.clientAuth())
                .applicationProtocolConfig(settings.alpn());
        if (settings.clientCa() != null) {
            builder.trustManager(settings.clientCa());
        }
        try {
            return builder.build();
        } catch (SSLException | RuntimeException e) {
            // The files parsed, so this is the engine refusing the material (e.g. an unsupported key).
            throw new TlsConfigException(configPath + ": the TLS engine rejected " + describe(material)
                    + " (" + e.getMessage() + ")", e);
        }
    }

    private static String describe(TlsFiles.KeyMaterial material) {
        return "the certificate " + material.leaf().getSubjectX500Principal().getName()
                + " with its " + material.key().getAlgorithm() + " key";
    }
}
