package io.h3relay.upstream;

import io.h3relay.config.ClusterConfig.UpstreamTls;
import io.h3relay.config.TlsServerConfig;
import io.h3relay.config.TlsServerConfig.ClientAuth;
import io.h3relay.config.TlsServerConfig.TlsVersion;
import io.h3relay.tls.DevCertificates;
import io.h3relay.tls.Providers;
import io.h3relay.tls.ServerTlsContexts;
import io.h3relay.tls.TestPki;
import io.h3relay.tls.TlsConfigException;
import io.h3relay.tls.TlsTestServer;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import javax.net.ssl.SSLHandshakeException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A Netty client using {@link UpstreamTlsContexts} against a real TLS server on port 0. */
@org.junit.jupiter.api.parallel.Isolated("sets the TLS provider system property every relay reads")
class UpstreamTlsContextsTest {
    @TempDir
    static Path dir;
    static TestPki.Issued ca;
    static Path caFile;
    static Path otherCaFile;
    static TlsTestServer server;
    static TestPki.Issued clientCa;
    static TlsTestServer mtlsServer;
    static EventLoopGroup group;

    @BeforeAll
    static void start() throws Exception {
        ca = TestPki.ca("Upstream CA");
        caFile = TestPki.writeCerts(dir.resolve("ca.crt"), ca.cert());
        otherCaFile = TestPki.writeCerts(dir.resolve("other-ca.crt"), TestPki.ca("Other CA").cert());
        TestPki.Issued endpoint = TestPki.server(ca, "api.internal", "127.0.0.1");
        Path cert = TestPki.writeCerts(dir.resolve("endpoint.crt"), endpoint.cert());
        Path key = TestPki.writePkcs8(dir.resolve("endpoint.key"), endpoint.key());
        List<String> alpn = List.of("h2", "http/1.1");
        server = new TlsTestServer(ServerTlsContexts.build(
                new TlsServerConfig(cert, key, null, TlsVersion.TLS_1_2, ClientAuth.NONE, null, List.of()), alpn));
        clientCa = TestPki.ca("Client CA");
        Path clientCaFile = TestPki.writeCerts(dir.resolve("client-ca.crt"), clientCa.cert());
        mtlsServer = new TlsTestServer(ServerTlsContexts.build(new TlsServerConfig(cert, key, null,
                TlsVersion.TLS_1_2, ClientAuth.REQUIRE, clientCaFile, List.of()), alpn));
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stop() {
        server.close();
        mtlsServer.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @AfterEach
    void resetProvider() {
        Providers.reset();
    }

    /** Connects and returns the finished handshake's SslHandler, or throws the handshake failure. */
    private static SslHandler handshake(SslContext ctx, String sniHost, int port, boolean verify) throws Exception {
        SslHandler[] handler = new SslHandler[1];
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        handler[0] = UpstreamTlsContexts.newHandler(ctx, ch.alloc(), sniHost, "127.0.0.1", port, verify);
                        ch.pipeline().addLast(handler[0]);
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
        try {
            Future<Channel> done = handler[0].handshakeFuture().await();
            if (!done.isSuccess()) {
                throw (Exception) done.cause();
            }
            return handler[0];
        } finally {
            ch.close().sync();
        }
    }

    private static UpstreamTls verifying(Path ca) {
        return new UpstreamTls(true, ca, null, null, null);
    }

    @ParameterizedTest
    @MethodSource("io.h3relay.tls.Providers#available")
    void trustedCaAndMatchingHostConnectWithHttp1(String provider) throws Exception {
        Providers.use(provider);
        SslContext ctx = UpstreamTlsContexts.build(verifying(caFile));
        SslHandler ok = handshake(ctx, "api.internal", server.port(), true);
        assertThat(ok.applicationProtocol()).isEqualTo("http/1.1");
        // An IP literal sends no SNI and is checked against the certificate's IP addresses.
        assertThat(handshake(ctx, null, server.port(), true).engine().getSession().getProtocol()).isEqualTo("TLSv1.3");
    }

    /**
     * An endpoint named without a dot ({@code localhost}, a Kubernetes service such as {@code api}) still
     * gets SNI (Netty alone leaves it out), against a server that picks its certificate by SNI and refuses
     * a handshake without one, as Caddy does.
     */
    @ParameterizedTest
    @MethodSource("io.h3relay.tls.Providers#available")
    void singleLabelNamesGetSni(String provider) throws Exception {
        Providers.use(provider);
        TestPki.Issued local = TestPki.server(ca, "localhost", "api");
        io.netty.handler.ssl.SslContext serverTls = io.netty.handler.ssl.SslContextBuilder
                .forServer(local.key(), local.cert()).build();
        java.util.List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        EventLoopGroup serverGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel sniServer = new io.netty.bootstrap.ServerBootstrap().group(serverGroup)
                    .channel(io.netty.channel.socket.nio.NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new io.netty.handler.ssl.SniHandler(host -> {
                                seen.add(host == null ? "none" : host);
                                if (host == null) {
                                    throw new IllegalArgumentException("no SNI: no certificate for this connection");
                                }
                                return serverTls;
                            }));
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
            int port = ((java.net.InetSocketAddress) sniServer.localAddress()).getPort();
            SslContext ctx = UpstreamTlsContexts.build(verifying(caFile));
            for (String name : List.of("localhost", "api")) {
                SslHandler ok = handshake(ctx, name, port, true);
                assertThat(ok.engine().getSession().getProtocol()).isEqualTo("TLSv1.3");
            }
            assertThat(seen).containsExactly("localhost", "api");
            sniServer.close().sync();
        } finally {
            serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @ParameterizedTest
    @MethodSource("io.h3relay.tls.Providers#available")
    void alpnListIsAParameter(String provider) throws Exception {
        Providers.use(provider);
        SslContext ctx = UpstreamTlsContexts.build(verifying(caFile), List.of("h2", "http/1.1"), "clusters[0].tls");
        assertThat(handshake(ctx, "api.internal", server.port(), true).applicationProtocol()).isEqualTo("h2");
    }

    @ParameterizedTest
    @MethodSource("io.h3relay.tls.Providers#available")
    void untrustedCertificateIsRejected(String provider) throws Exception {
        Providers.use(provider);
        SslContext otherCa = UpstreamTlsContexts.build(verifying(otherCaFile));
        assertThatThrownBy(() -> handshake(otherCa, "api.internal", server.port(), true))
                .isInstanceOf(SSLHandshakeException.class);
        // No ca: the JDK's trust store, which does not know the test CA.
        SslContext jdkTrust = UpstreamTlsContexts.build(verifying(null));
        assertThatThrownBy(() -> handshake(jdkTrust, "api.internal", server.port(), true))
                .isInstanceOf(SSLHandshakeException.class);
    }

    @ParameterizedTest
    @MethodSource("io.h3relay.tls.Providers#available")
    void hostNameMismatchIsRejected(String provider) throws Exception {
        Providers.use(provider);
        SslContext ctx = UpstreamTlsContexts.build(verifying(caFile));
        assertThatThrownBy(() -> handshake(ctx, "other.internal", server.port(), true))
                .isInstanceOf(SSLHandshakeException.class);
        assertThatThrownBy(() -> handshake(ctx, "127.0.0.2", server.port(), true))
                .isInstanceOf(SSLHandshakeException.class);
    }

    @ParameterizedTest
    @MethodSource("io.h3relay.tls.Providers#available")
    void verifyFalseAcceptsAnyCertificateAndName(String provider) throws Exception {
        Providers.use(provider);
        SslContext ctx = UpstreamTlsContexts.build(new UpstreamTls(false, null, null, null, null));
        assertThat(handshake(ctx, "other.internal", server.port(), false).applicationProtocol()).isEqualTo("http/1.1");
    }

    @ParameterizedTest
    @MethodSource("io.h3relay.tls.Providers#available")
    void clientCertificateForMutualTls(String provider) throws Exception {
        Providers.use(provider);
        TestPki.Issued relay = TestPki.client(clientCa, "relay");
        Path cert = TestPki.writeCerts(dir.resolve("relay.crt"), relay.cert());
        Path key = TestPki.writePkcs8(dir.resolve("relay.key"), relay.key());
        SslContext withCert = UpstreamTlsContexts.build(new UpstreamTls(true, caFile, null, cert, key));
        assertThat(handshake(withCert, "api.internal", mtlsServer.port(), true).engine().getSession()
                .getLocalCertificates()[0]).isEqualTo(relay.cert());
    }

    @Test
    void selfSignedDevCertificateCanBeItsOwnCa() throws Exception {
        DevCertificates.Result dev = DevCertificates.generate(List.of("dev.internal", "127.0.0.1"), dir);
        var cfg = new TlsServerConfig(dev.certificate(), dev.privateKey(), null, TlsVersion.TLS_1_3,
                ClientAuth.NONE, null, List.of());
        try (TlsTestServer devServer = new TlsTestServer(ServerTlsContexts.build(cfg, List.of("http/1.1")))) {
            SslContext ctx = UpstreamTlsContexts.build(verifying(dev.certificate()));
            assertThat(handshake(ctx, "dev.internal", devServer.port(), true).applicationProtocol()).isEqualTo("http/1.1");
            assertThatThrownBy(() -> handshake(ctx, "api.internal", devServer.port(), true))
                    .isInstanceOf(SSLHandshakeException.class);
        }
    }

    @Test
    void badFilesNameTheirConfigPath() throws Exception {
        Path missing = dir.resolve("missing-ca.crt");
        assertThatThrownBy(() -> UpstreamTlsContexts.build(verifying(missing), UpstreamTlsContexts.HTTP1_ALPN,
                "clusters[3].tls"))
                .isInstanceOf(TlsConfigException.class)
                .hasMessage("clusters[3].tls.ca: " + missing + ": file not found");
        Path cert = TestPki.writeCerts(dir.resolve("lonely.crt"), ca.cert());
        assertThatThrownBy(() -> UpstreamTlsContexts.build(new UpstreamTls(true, caFile, null, cert, null)))
                .isInstanceOf(TlsConfigException.class)
                .hasMessage("tls.private_key: required with a PEM certificate (" + cert + ")");
        Path key = TestPki.writePkcs8(dir.resolve("lonely.key"), TestPki.ecKey().getPrivate());
        assertThatThrownBy(() -> UpstreamTlsContexts.build(new UpstreamTls(true, caFile, null, null, key)))
                .isInstanceOf(TlsConfigException.class)
                .hasMessage("tls.certificate: required with private_key");
    }
}
