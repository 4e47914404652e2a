package io.h3relay.upstream;

import io.h3relay.config.ClusterConfig.UpstreamTls;
import io.h3relay.tls.TlsConfigException;
import io.h3relay.tls.TlsFiles;
import io.h3relay.tls.TlsProviders;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolConfig.Protocol;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.NetUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import java.util.List;

/**
 * TLS towards a cluster's endpoints. One {@link SslContext} per cluster is built at config time from
 * {@link UpstreamTls}; each upstream connection then gets its own handler from
 * {@link #newHandler}, which is where SNI and hostname verification are set, because both depend on
 * the endpoint being dialled, not on the cluster.
 */
public final class UpstreamTlsContexts {
    /** The ALPN offer while upstream pools speak HTTP/1.1 only. */
    public static final List<String> HTTP1_ALPN = List.of("http/1.1");
    /** The ALPN offer of an {@code http2} cluster: h2 only (an endpoint that picks nothing else fails the connect). */
    public static final List<String> HTTP2_ALPN = List.of("h2");
    /** The TCP leg of an {@code http3} cluster with {@code or_lower}: h2 preferred, http/1.1 accepted. */
    public static final List<String> HTTP2_OR_HTTP1_ALPN = List.of("h2", "http/1.1");

    private static final Logger log = LoggerFactory.getLogger(UpstreamTlsContexts.class);

    private UpstreamTlsContexts() {
    }

    /** As {@link #build(UpstreamTls, List, String)} offering http/1.1, with config path "tls". */
    public static SslContext build(UpstreamTls cfg) throws TlsConfigException {
        return build(cfg, HTTP1_ALPN, "tls");
    }

    /**
     * @param alpn       protocols to offer, in preference order; empty sends no ALPN extension
     * @param configPath where {@code cfg} sits, e.g. "clusters[2].tls"; used in messages and the warning
     */
    public static SslContext build(UpstreamTls cfg, List<String> alpn, String configPath) throws TlsConfigException {
        SslContextBuilder builder = SslContextBuilder.forClient()
                .sslProvider(TlsProviders.preferred())
                .protocols("TLSv1.3", "TLSv1.2")
                .applicationProtocolConfig(alpnConfig(alpn));
        if (cfg.verify()) {
            // No trust manager set means the JDK's default trust store (cacerts).
            if (cfg.ca() != null) {
                builder.trustManager(TlsFiles.readCertificates(cfg.ca(), configPath + ".ca"));
            }
            builder.endpointIdentificationAlgorithm("HTTPS");
        } else {
            log.warn("{}: verify is false: endpoint certificates and host names are NOT checked;"
                    + " anyone on the path can read and change this traffic", configPath);
            builder.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
        }
        if (cfg.certificate() != null || cfg.privateKey() != null) {
            if (cfg.certificate() == null) {
                throw new TlsConfigException(configPath + ".certificate: required with private_key");
            }
            TlsFiles.KeyMaterial client = TlsFiles.readPem(cfg.certificate(), configPath + ".certificate",
                    cfg.privateKey(), configPath + ".private_key");
            builder.keyManager(client.key(), client.chain());
        }
        try {
            return builder.build();
        } catch (SSLException | RuntimeException e) {
            throw new TlsConfigException(configPath + ": the TLS engine rejected the settings ("
                    + e.getMessage() + ")", e);
        }
    }

    /**
     * A handler for one connection to an endpoint.
     *
     * @param sniHost  the name to send as SNI and, when verifying, to check the certificate against:
     *                 the cluster's {@code sni} if set, else the endpoint host; null means {@code peerHost}.
     *                 An IP literal sends no SNI (RFC 6066 allows only host names) and is checked
     *                 against the certificate's IP addresses.
     * @param peerHost the endpoint's host as dialled; the name used when {@code sniHost} is null.
     *                 The engine's session cache is keyed by the verified name and {@code port}
     * @param verify   enforce HTTPS endpoint identification; pass the cluster's {@code verify}
     */
    public static SslHandler newHandler(SslContext ctx, ByteBufAllocator alloc, String sniHost, String peerHost,
                                        int port, boolean verify) {
        String name = sniHost == null || sniHost.isEmpty() ? peerHost : sniHost;
        boolean ipName = name != null && (NetUtil.isValidIpV4Address(name) || NetUtil.isValidIpV6Address(name));
        // The engine's peer host is the name we verify, not the dialled address: the JDK trust manager
        // (both engines use it) checks the SNI name first but falls back to the peer host, so a
        // certificate carrying the endpoint's IP would otherwise pass for any SNI name.
        SslHandler handler = ctx.newHandler(alloc, name, port);
        SSLEngine engine = handler.engine();
        SSLParameters params = engine.getSSLParameters();
        if (name != null && !ipName) {
            params.setServerNames(List.of(new SNIHostName(name)));
        } else {
            params.setServerNames(List.of());
        }
        params.setEndpointIdentificationAlgorithm(verify ? "HTTPS" : null);
        engine.setSSLParameters(params);
        return handler;
    }

    private static ApplicationProtocolConfig alpnConfig(List<String> alpn) {
        if (alpn == null || alpn.isEmpty()) {
            return ApplicationProtocolConfig.DISABLED;
        }
        return new ApplicationProtocolConfig(Protocol.ALPN, SelectorFailureBehavior.NO_ADVERTISE,
                SelectedListenerFailureBehavior.ACCEPT, alpn);
    }
}
