package io.h3relay.client;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import java.io.File;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * Client TLS for TCP (h1, h2 with ALPN) and QUIC (h3): which certificates to trust. By default the
 * JDK's trusted roots; {@link #trusting} a given CA (PEM file or certificate); {@link #insecure()} anything
 * ({@code -k}). Over TCP the certificate's names are checked against the URL's host unless insecure.
 * BoringSSL (netty-tcnative) is used where it loads: a load generator must not spend its CPU on TLS.
 */
public final class ClientTls {
    private final boolean insecure;
    private final File caFile;
    private final X509Certificate[] caCerts;

    private ClientTls(boolean insecure, File caFile, X509Certificate[] caCerts) {
        this.insecure = insecure;
        this.caFile = caFile;
        this.caCerts = caCerts;
    }

    public static ClientTls system() {
        return new ClientTls(false, null, null);
    }

    public static ClientTls insecure() {
        return new ClientTls(true, null, null);
    }

    public static ClientTls trusting(File caPem) {
        return new ClientTls(false, caPem, null);
    }

    public static ClientTls trusting(X509Certificate... cas) {
        return new ClientTls(false, null, cas.clone());
    }

    public boolean isInsecure() {
        return insecure;
    }

    /** A TCP client context offering {@code protocols} by ALPN (h2 and/or http/1.1, in preference order). */
    public SslContext tcp(List<Protocol> protocols) throws SSLException {
        List<String> alpn = new ArrayList<>();
        for (Protocol p : protocols) {
            alpn.add(p == Protocol.HTTP_2 ? ApplicationProtocolNames.HTTP_2 : ApplicationProtocolNames.HTTP_1_1);
        }
        SslContextBuilder b = SslContextBuilder.forClient()
                .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn));
        trust(b);
        return b.build();
    }

    private void trust(SslContextBuilder b) {
        if (insecure) {
            b.trustManager(InsecureTrustManagerFactory.INSTANCE);
        } else if (caFile != null) {
            b.trustManager(caFile);
        } else if (caCerts != null) {
            b.trustManager(caCerts);
        }
    }

    /** A QUIC client context offering h3. */
    public QuicSslContext quic() {
        QuicSslContextBuilder b = QuicSslContextBuilder.forClient()
                .applicationProtocols(Http3.supportedApplicationProtocols());
        if (insecure) {
            b.trustManager(InsecureTrustManagerFactory.INSTANCE);
        } else if (caFile != null) {
            b.trustManager(caFile);
        } else if (caCerts != null) {
            b.trustManager(caCerts);
        }
        return b.build();
    }

    /**
     * An engine for {@code target}: SNI with its host (also a name without a dot, which Netty would leave
     * out: {@link Sni}), and the host checked against the certificate.
     */
    public SSLEngine newEngine(SslContext ctx, ByteBufAllocator alloc, Target target) {
        SSLEngine engine = ctx.newEngine(alloc, target.host(), target.port());
        Sni.set(engine, target.host());
        if (!insecure) {
            SSLParameters p = engine.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(p);
        }
        return engine;
    }
}
