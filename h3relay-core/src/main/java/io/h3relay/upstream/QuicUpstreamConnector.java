package io.h3relay.upstream;

import io.h3relay.config.ClusterConfig;
import io.h3relay.config.ClusterConfig.UpstreamTls;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.tls.TlsConfigException;
import io.h3relay.tls.TlsFiles;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.quic.Quic;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicSslEngine;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Opens QUIC connections to a cluster's endpoints for {@link Http3Pool}: a UDP socket of its own per
 * connection (its own 4-tuple; closed with the connection), the client codec with every transport parameter
 * set (quiche's defaults are not ours), TLS 1.3 with ALPN h3, the cluster's trust ({@code tls.ca}, or the
 * JDK's roots) and its client certificate.
 *
 * <p>Certificate names: Netty's QUIC engine checks the chain through the trust manager but not the host
 * name, so the trust manager here does that itself ({@link HostChecking}: the SAN DNS names, wildcards in
 * the left-most label, or the SAN IP addresses for an IP literal), as {@code endpointIdentificationAlgorithm
 * HTTPS} does over TCP. SNI: set for every host name that is not an IP literal, also a single-label one such
 * as {@code localhost}, which Netty's engine would leave out (netty-quic-notes.md, pitfall 5).
 */
public final class QuicUpstreamConnector {
    private static final Logger LOG = LoggerFactory.getLogger(QuicUpstreamConnector.class);
    /** Our receive windows: what one endpoint may send ahead of a slow client, per stream and per connection. */
    static final long STREAM_WINDOW = 1L << 20;
    static final long CONNECTION_WINDOW = 16L << 20;

    private final ClusterConfig config;
    /** The trust store (null: verify false) and client certificate, read at config time. */
    private final X509TrustManager trust;
    private final TlsFiles.KeyMaterial clientCertificate;
    /** A context per verified name: the engine does not tell the trust manager which name it dialled. */
    private final java.util.concurrent.ConcurrentHashMap<String, QuicSslContext> contexts =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final io.h3relay.transport.Transport transport;

    QuicUpstreamConnector(ClusterConfig config, X509TrustManager trust, TlsFiles.KeyMaterial clientCertificate,
                          io.h3relay.transport.Transport transport) {
        this.config = config;
        this.trust = trust;
        this.clientCertificate = clientCertificate;
        this.transport = transport;
    }

    /** The connector of a cluster with {@code protocol: http3} (or a QUIC leg of {@code auto}). */
    public static QuicUpstreamConnector create(ClusterConfig config, io.h3relay.transport.Transport transport)
            throws TlsConfigException {
        if (!Quic.isAvailable()) {
            throw new TlsConfigException("clusters[" + config.name() + "].protocol: HTTP/3 is not available on this "
                    + "platform (" + Quic.unavailabilityCause() + ")", Quic.unavailabilityCause());
        }
        String configPath = "clusters[" + config.name() + "].tls";
        UpstreamTls cfg = config.tls();
        X509TrustManager trust = cfg == null || cfg.verify() ? trustManager(cfg == null || cfg.ca() == null ? null
                : TlsFiles.readCertificates(cfg.ca(), configPath + ".ca")) : null;
        TlsFiles.KeyMaterial client = cfg != null && cfg.certificate() != null ? TlsFiles.readPem(cfg.certificate(),
                configPath + ".certificate", cfg.privateKey(), configPath + ".private_key") : null;
        QuicUpstreamConnector c = new QuicUpstreamConnector(config, trust, client, transport);
        try {
            c.context("localhost"); // the engine's verdict on the settings, at config time
        } catch (RuntimeException e) {
            throw new TlsConfigException(configPath + ": the QUIC TLS engine rejected the settings ("
                    + e.getMessage() + ")", e);
        }
        return c;
    }

    /** The client context for endpoints verified as {@code name} (built once per name). */
    QuicSslContext context(String name) {
        return contexts.computeIfAbsent(name, n -> {
            QuicSslContextBuilder b = QuicSslContextBuilder.forClient()
                    .applicationProtocols(Http3.supportedApplicationProtocols());
            b.trustManager(trust == null ? InsecureTrustManagerFactory.INSTANCE.getTrustManagers()[0]
                    : new HostChecking(trust, n));
            if (clientCertificate != null) {
                b.keyManager(clientCertificate.key(), null, clientCertificate.chain().toArray(new X509Certificate[0]));
            }
            return b.build();
        });
    }

    private static X509TrustManager trustManager(List<X509Certificate> cas) throws TlsConfigException {
        try {
            TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            if (cas == null) {
                f.init((KeyStore) null);
            } else {
                KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
                ks.load(null, null);
                int i = 0;
                for (X509Certificate c : cas) {
                    ks.setCertificateEntry("ca" + i++, c);
                }
                f.init(ks);
            }
            for (TrustManager tm : f.getTrustManagers()) {
                if (tm instanceof X509TrustManager x) {
                    return x;
                }
            }
            throw new TlsConfigException("no X.509 trust manager available", null);
        } catch (java.security.GeneralSecurityException | java.io.IOException e) {
            throw new TlsConfigException("cannot build the trust store: " + e.getMessage(), e);
        }
    }

    /** The name the endpoint's certificate must carry and SNI names: {@code tls.sni}, else the endpoint host. */
    String verifiedName(Endpoint endpoint) {
        UpstreamTls t = config.tls();
        return t != null && t.sni() != null && !t.sni().isEmpty() ? t.sni() : host(endpoint);
    }

    static String host(Endpoint endpoint) {
        return endpoint.address().host().isEmpty() ? "127.0.0.1" : endpoint.address().host();
    }

    ClusterConfig config() {
        return config;
    }

    /**
     * Our QUIC idle timeout: above {@code pool.idle_timeout}, so that our own idle close comes first (and at
     * least 30 s, so that a dead endpoint is noticed in that time); the endpoint's may be shorter, which the
     * connection's keep-alive covers.
     */
    long quicIdleTimeoutMillis() {
        return Math.max(30_000, config.pool().idleTimeout().toMillis() + 5_000);
    }

    /**
     * A QUIC connection to {@code endpoint} on {@code loop}, its pipeline made by {@code handlers}; the future
     * completes when the handshake did, and fails after {@code connect_timeout} (a silent UDP port: no
     * listener there, or a firewall) with a {@link QuicConnectException}.
     */
    Future<QuicChannel> connect(EventLoop loop, Endpoint endpoint, Consumer<QuicChannel> handlers) {
        Promise<QuicChannel> promise = loop.newPromise();
        String host = host(endpoint);
        String name = verifiedName(endpoint);
        int port = endpoint.address().port();
        long idleMillis = quicIdleTimeoutMillis();
        QuicSslContext tls = context(name);
        ChannelHandler codec = Http3.newQuicClientCodecBuilder()
                .sslContext(tls)
                .sslEngineProvider(q -> {
                    QuicSslEngine engine = tls.newEngine(q.alloc(), name, port);
                    setSni(engine, name);
                    return engine;
                })
                .maxIdleTimeout(idleMillis, TimeUnit.MILLISECONDS)
                .initialMaxData(CONNECTION_WINDOW)
                .initialMaxStreamDataBidirectionalLocal(STREAM_WINDOW)
                .initialMaxStreamDataBidirectionalRemote(STREAM_WINDOW)
                .initialMaxStreamDataUnidirectional(STREAM_WINDOW)
                .initialMaxStreamsBidirectional(0) // an endpoint opens no request streams towards us
                .initialMaxStreamsUnidirectional(16) // its control and QPACK streams (and some slack)
                .build();
        var udpClass = transport.on(loop).datagramChannelClass(); // epoll on a loop of the QUIC group
        new Bootstrap().group(loop).channel(udpClass).handler(codec).bind(0).addListener(bf -> {
            if (!bf.isSuccess()) {
                promise.tryFailure(bf.cause());
                return;
            }
            Channel udp = ((io.netty.channel.ChannelFuture) bf).channel();
            ScheduledFuture<?> timeout = loop.schedule(() -> {
                if (promise.tryFailure(new QuicConnectException("QUIC handshake with " + endpoint + " timed out after "
                        + config.connectTimeout().toMillis() + " ms (no HTTP/3 on its UDP port?)", null))) {
                    udp.close();
                }
            }, config.connectTimeout().toNanos(), TimeUnit.NANOSECONDS);
            QuicChannel.newBootstrap(udp)
                    .handler(new ChannelInitializer<QuicChannel>() {
                        @Override
                        protected void initChannel(QuicChannel ch) {
                            handlers.accept(ch);
                        }
                    })
                    .remoteAddress(new InetSocketAddress(host, port))
                    .connect()
                    .addListener(qf -> {
                        timeout.cancel(false);
                        if (!qf.isSuccess()) {
                            udp.close();
                            promise.tryFailure(new QuicConnectException("QUIC handshake with " + endpoint + " failed: "
                                    + qf.cause().getMessage(), qf.cause()));
                            return;
                        }
                        QuicChannel quic = (QuicChannel) qf.getNow();
                        quic.closeFuture().addListener(f -> udp.close());
                        if (!promise.trySuccess(quic)) {
                            quic.close();
                        }
                    });
        });
        return promise;
    }

    /** The QUIC handshake failed or timed out: the request never left (a fallback may take it over TCP). */
    public static final class QuicConnectException extends java.io.IOException {
        QuicConnectException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    // ---- SNI for single-label names ---------------------------------------------------------------------

    private static final Field QUIC_HOST_NAME;
    private static final Field QUIC_SERVER_NAMES;

    static {
        Field host = null;
        Field names = null;
        try {
            Class<?> engine = Class.forName("io.netty.handler.codec.quic.QuicheQuicSslEngine");
            host = engine.getDeclaredField("tlsHostName");
            host.setAccessible(true);
            names = engine.getDeclaredField("sniHostNames");
            names.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("cannot set SNI for single-label host names over QUIC (Netty's engine changed?): {}", e.toString());
            host = null;
            names = null;
        }
        QUIC_HOST_NAME = host;
        QUIC_SERVER_NAMES = names;
    }

    /**
     * Netty 4.2.18's QUIC engine takes SNI only from the peer host given to its constructor, and drops a name
     * without a dot; the same reflective fix as h3relay-client's {@code Sni} (this module does not depend on it).
     */
    private static void setSni(QuicSslEngine engine, String host) {
        if (host == null || host.isEmpty() || NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host)
                || QUIC_HOST_NAME == null || !QUIC_HOST_NAME.getDeclaringClass().isInstance(engine)) {
            return;
        }
        try {
            if (QUIC_HOST_NAME.get(engine) == null) {
                QUIC_HOST_NAME.set(engine, host);
                List<SNIServerName> names = List.of(new SNIHostName(host));
                QUIC_SERVER_NAMES.set(engine, names);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("cannot set SNI {} over QUIC: {}", host, e.toString());
        }
    }

    // ---- host name verification -------------------------------------------------------------------------

    /** The chain checked by the trust store, then the certificate's names against the engine's peer host. */
    static final class HostChecking extends X509ExtendedTrustManager {
        private final X509TrustManager delegate;
        private final String name;

        HostChecking(X509TrustManager delegate, String name) {
            this.delegate = delegate;
            this.name = name;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            try {
                delegate.checkServerTrusted(chain, authType);
                checkName(chain[0], name);
            } catch (CertificateException e) {
                LOG.debug("QUIC endpoint certificate refused: {}", e.getMessage());
                throw e;
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("QUIC only");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("the endpoint's host name is unknown: cannot verify its certificate");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("client side only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("client side only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("client side only");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }

        static void checkName(X509Certificate cert, String name) throws CertificateException {
            boolean ip = NetUtil.isValidIpV4Address(name) || NetUtil.isValidIpV6Address(name);
            String want = name.toLowerCase(Locale.ROOT);
            if (want.endsWith(".")) {
                want = want.substring(0, want.length() - 1);
            }
            Collection<List<?>> sans;
            try {
                sans = cert.getSubjectAlternativeNames();
            } catch (CertificateParsingException e) {
                throw new CertificateException("cannot read the certificate's names", e);
            }
            if (sans != null) {
                for (List<?> san : sans) {
                    int type = (Integer) san.get(0);
                    String value = String.valueOf(san.get(1));
                    if (ip && type == 7 && sameAddress(value, want)) {
                        return;
                    }
                    if (!ip && type == 2 && dnsMatches(value.toLowerCase(Locale.ROOT), want)) {
                        return;
                    }
                }
            }
            throw new CertificateException("the endpoint's certificate is not valid for " + name);
        }

        private static boolean sameAddress(String a, String b) {
            byte[] x = NetUtil.createByteArrayFromIpAddressString(a);
            byte[] y = NetUtil.createByteArrayFromIpAddressString(b);
            return x != null && java.util.Arrays.equals(x, y);
        }

        private static boolean dnsMatches(String pattern, String host) {
            if (pattern.endsWith(".")) {
                pattern = pattern.substring(0, pattern.length() - 1);
            }
            if (pattern.startsWith("*.")) {
                int dot = host.indexOf('.');
                return dot > 0 && pattern.substring(1).equals(host.substring(dot)) && pattern.indexOf('.', 2) > 0;
            }
            return pattern.equals(host);
        }
    }
}
