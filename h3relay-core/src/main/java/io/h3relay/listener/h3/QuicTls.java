package io.h3relay.listener.h3;

import io.h3relay.config.TlsServerConfig;
import io.h3relay.tls.TlsConfigException;
import io.h3relay.tls.TlsFiles;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.ssl.ClientAuth;
import io.netty.util.DomainWildcardMappingBuilder;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The QUIC TLS context of a listener, from the same {@code tls:} block as TCP: QUIC always uses TLS 1.3
 * (BoringSSL inside quiche), ALPN {@code h3}, the same certificates, SNI entries and client-certificate
 * policy.
 */
final class QuicTls {
    private QuicTls() {
    }

    /** {@code earlyData}: BoringSSL accepts 0-RTT on resumed sessions (http3.zero_rtt). */
    static QuicServerTls build(TlsServerConfig cfg, String configPath, boolean earlyData) throws TlsConfigException {
        QuicSslContext main = one(cfg, cfg.certificate(), cfg.privateKey(), cfg.password(), configPath, earlyData);
        if (cfg.sni().isEmpty()) {
            return new QuicServerTls(main, List.of(main));
        }
        List<QuicSslContext> all = new java.util.ArrayList<>(List.of(main));
        DomainWildcardMappingBuilder<QuicSslContext> mapping = new DomainWildcardMappingBuilder<>(main);
        for (int i = 0; i < cfg.sni().size(); i++) {
            TlsServerConfig.SniCertificate sni = cfg.sni().get(i);
            QuicSslContext ctx = one(cfg, sni.certificate(), sni.privateKey(), sni.password(),
                    configPath + ".sni[" + i + "]", earlyData);
            all.add(ctx);
            for (String name : sni.serverNames()) {
                mapping.add(name, ctx);
            }
        }
        QuicSslContext wrapper = QuicSslContextBuilder.buildForServerWithSni(mapping.build());
        all.add(wrapper);
        return new QuicServerTls(wrapper, List.copyOf(all));
    }

    private static QuicSslContext one(TlsServerConfig cfg, Path certificate, Path privateKey, String password,
                                      String configPath, boolean earlyData) throws TlsConfigException {
        boolean p12 = certificate.getFileName().toString().toLowerCase(java.util.Locale.ROOT).matches(".*\\.(p12|pfx)");
        TlsFiles.KeyMaterial km = p12
                ? TlsFiles.readPkcs12(certificate, password, configPath + ".certificate", configPath + ".password")
                : TlsFiles.readPem(certificate, configPath + ".certificate", privateKey, configPath + ".private_key");
        QuicSslContextBuilder b = QuicSslContextBuilder.forServer(km.key(), null,
                        km.chain().toArray(X509Certificate[]::new))
                .applicationProtocols(Http3.supportedApplicationProtocols())
                .earlyData(earlyData);
        if (cfg.clientAuth() != null && cfg.clientAuth() != TlsServerConfig.ClientAuth.NONE) {
            List<X509Certificate> ca = TlsFiles.readCertificates(cfg.clientCa(), configPath + ".client_ca");
            b.trustManager(ca.toArray(X509Certificate[]::new));
            b.clientAuth(cfg.clientAuth() == TlsServerConfig.ClientAuth.REQUIRE ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
        }
        try {
            return b.build();
        } catch (RuntimeException e) {
            throw new TlsConfigException(configPath + ": cannot build the QUIC TLS context: " + e.getMessage(), e);
        }
    }
}
