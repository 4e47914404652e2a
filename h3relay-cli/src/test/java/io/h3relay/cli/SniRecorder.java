package io.h3relay.cli;

import io.h3relay.testing.TestCertificates;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.http3.Http3ServerConnectionHandler;
import io.netty.handler.codec.quic.InsecureQuicTokenHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * A TLS server over TCP (HTTP/1.1) and one over QUIC (HTTP/3) on 127.0.0.1, port 0, that record the SNI
 * name each handshake carried and answer every request with {@code sni=NAME} ({@code sni=none} without
 * one). Both pick their certificate by SNI, as Caddy does.
 */
final class SniRecorder implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel tcp;
    private final Channel udp;
    private volatile String lastTcp = "none";
    private volatile String lastQuic = "none";

    SniRecorder(TestCertificates certs) throws Exception {
        SslContext tcpTls = SslContextBuilder.forServer(certs.leafKey(), certs.leafChain()).build();
        tcp = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        String[] seen = {"none"};
                        ch.pipeline().addLast(new SniHandler(host -> {
                            seen[0] = host == null ? "none" : host;
                            lastTcp = seen[0];
                            return tcpTls;
                        }), new HttpServerCodec(), new SimpleChannelInboundHandler<HttpObject>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                                if (msg instanceof HttpRequest) {
                                    byte[] body = ("sni=" + seen[0]).getBytes(StandardCharsets.US_ASCII);
                                    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                                            Unpooled.wrappedBuffer(body));
                                    r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
                                    ctx.writeAndFlush(r);
                                }
                            }
                        });
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
        QuicSslContext quicCert = QuicSslContextBuilder.forServer(certs.leafKey(), null, certs.leafChain())
                .applicationProtocols(Http3.supportedApplicationProtocols()).build();
        // Without SNI the mapping is not asked, and the default context (the same certificate) serves.
        QuicSslContext quicTls = QuicSslContextBuilder.buildForServerWithSni(host -> {
            lastQuic = host == null ? "none" : host;
            return quicCert;
        });
        udp = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                .handler(Http3.newQuicServerCodecBuilder()
                        .sslContext(quicTls)
                        .maxIdleTimeout(10, TimeUnit.SECONDS)
                        .initialMaxData(1 << 20)
                        .initialMaxStreamDataBidirectionalRemote(1 << 20)
                        .initialMaxStreamsBidirectional(10)
                        .tokenHandler(InsecureQuicTokenHandler.INSTANCE)
                        .handler(new ChannelInitializer<QuicChannel>() {
                            @Override
                            protected void initChannel(QuicChannel ch) {
                                ch.pipeline().addLast(new Http3ServerConnectionHandler(new ChannelInitializer<QuicStreamChannel>() {
                                    @Override
                                    protected void initChannel(QuicStreamChannel stream) {
                                        stream.pipeline().addLast(new Answer());
                                    }
                                }));
                            }
                        }).build())
                .bind("127.0.0.1", 0).sync().channel();
    }

    int tcpPort() {
        return ((InetSocketAddress) tcp.localAddress()).getPort();
    }

    int udpPort() {
        return ((InetSocketAddress) udp.localAddress()).getPort();
    }

    /** The SNI name of the last TCP handshake ("none" without one). */
    String lastTcp() {
        return lastTcp;
    }

    /** The SNI name of the last QUIC handshake that carried one. */
    String lastQuic() {
        return lastQuic;
    }

    @Override
    public void close() {
        tcp.close().syncUninterruptibly();
        udp.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Forgets what was seen (the tests connect one at a time). */
    void reset() {
        lastTcp = "none";
        lastQuic = "none";
    }

    private final class Answer extends Http3RequestStreamInboundHandler {
        @Override
        protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
            ReferenceCountUtil.release(frame);
        }

        @Override
        protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
            frame.release();
        }

        @Override
        protected void channelInputClosed(ChannelHandlerContext ctx) {
            ByteBuf body = Unpooled.copiedBuffer("sni=" + lastQuic, StandardCharsets.US_ASCII);
            DefaultHttp3HeadersFrame head = new DefaultHttp3HeadersFrame();
            head.headers().status("200").setInt("content-length", body.readableBytes());
            ctx.write(head);
            ctx.writeAndFlush(new DefaultHttp3DataFrame(body)).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
        }
    }
}
