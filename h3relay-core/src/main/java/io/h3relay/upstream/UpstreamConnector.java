package io.h3relay.upstream;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.config.ClusterConfig;
import io.h3relay.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.HttpClientCodec;
import io.h3relay.headers.TrustedNames;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.net.InetSocketAddress;
import java.util.function.Consumer;

/**
 * Opens connections to endpoints (HTTP/1.1 for {@link Http1Pool}, HTTP/2 for {@link Http2Pool}) on a given event loop: TCP, then TLS when the cluster has it.
 * The returned future completes after the TLS handshake, so a handshake failure is a connect failure.
 */
public final class UpstreamConnector {
    /** Upstream response heads may be larger than what we accept downstream; 64 KiB like common proxies. */
    private static final int MAX_RESPONSE_HEADERS = 64 * 1024;
    /** The name of the h1 codec in the pipeline (removed when a stream becomes a tunnel). */
    static final String CODEC = "http";
    static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);

    private final Transport transport;
    private final ClusterConfig config;
    private final SslContext tls;

    public UpstreamConnector(Transport transport, ClusterConfig config, SslContext tls) {
        this.transport = transport;
        this.config = config;
        this.tls = tls;
    }

    Future<Channel> connect(EventLoop loop, Endpoint endpoint, Http1ConnectionHandler handler) {
        return connect(loop, endpoint, false, p -> {
            p.addLast(CODEC, new HttpClientCodec(new HttpDecoderConfig()
                    .setMaxHeaderSize(MAX_RESPONSE_HEADERS)
                    .setMaxInitialLineLength(8192)
                    .setMaxChunkSize(64 * 1024)
                    .setHeadersFactory(TrustedNames.factory()), false, false));
            p.addLast("upstream", handler);
        });
    }

    /**
     * Opens a connection whose protocol handlers {@code protocol} adds after TLS. {@code h2}: the connection
     * speaks HTTP/2 (a TLS one must then have negotiated {@code h2} by ALPN, else the connect fails; a failed
     * write closes it, as HTTP/2 has no half-closed connection to read on from).
     */
    Future<Channel> connect(EventLoop loop, Endpoint endpoint, boolean h2, Consumer<ChannelPipeline> protocol) {
        Promise<Channel> promise = loop.newPromise();
        String host = endpoint.address().host().isEmpty() ? "127.0.0.1" : endpoint.address().host();
        int port = endpoint.address().port();
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(transport.on(loop).socketChannelClass())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        config.connectTimeout().toMillis()))
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                // A failed write (EPIPE, ECONNRESET: the endpoint answered early and closed with our upload
                // unread) only shuts our output: its answer may still wait in the receive buffer, and a close
                // would discard it. Http1ConnectionHandler keeps reading until the endpoint's end.
                .option(ChannelOption.AUTO_CLOSE, h2)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ChannelPipeline p = ch.pipeline();
                        if (tls != null) {
                            ClusterConfig.UpstreamTls t = config.tls();
                            String sni = t.sni() != null ? t.sni() : host;
                            p.addLast("tls", UpstreamTlsContexts.newHandler(tls, ch.alloc(), sni, host, port,
                                    t.verify()));
                        }
                        protocol.accept(p);
                    }
                });
        ChannelFuture cf = b.connect(new InetSocketAddress(host, port));
        cf.addListener(f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
                return;
            }
            Channel ch = cf.channel();
            SslHandler ssl = ch.pipeline().get(SslHandler.class);
            if (ssl == null) {
                promise.trySuccess(ch);
            } else {
                ssl.handshakeFuture().addListener(hf -> {
                    if (hf.isSuccess() && h2 && !"h2".equals(ssl.applicationProtocol())) {
                        ch.close();
                        promise.tryFailure(new UpstreamTlsException(new javax.net.ssl.SSLException(
                                "endpoint did not agree to HTTP/2 (ALPN h2); it selected "
                                        + (ssl.applicationProtocol() == null ? "nothing" : ssl.applicationProtocol())
                                        + ": use protocol http1 for it"), true));
                    } else if (hf.isSuccess()) {
                        promise.trySuccess(ch);
                    } else {
                        ch.close();
                        promise.tryFailure(new UpstreamTlsException(hf.cause()));
                    }
                });
            }
        });
        return promise;
    }

    /** The TLS handshake with an endpoint failed (untrusted certificate, name mismatch, protocol). */
    public static final class UpstreamTlsException extends Exception {
        private final boolean alpnRefused;

        UpstreamTlsException(Throwable cause) {
            this(cause, false);
        }

        UpstreamTlsException(Throwable cause, boolean alpnRefused) {
            super(cause == null ? "TLS handshake failed" : cause.getMessage(), cause);
            this.alpnRefused = alpnRefused;
        }

        /** The handshake succeeded but the endpoint chose another protocol than HTTP/2 (ALPN). */
        public boolean alpnRefused() {
            return alpnRefused;
        }
    }
}
