package io.h3relay.listener;

import io.h3relay.config.Protocol;
import io.h3relay.exchange.DownstreamProtocol;
import io.h3relay.listener.h1.Http1Initializer;
import io.h3relay.listener.h2.Http2Initializer;
import io.h3relay.tls.ServerTls;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.util.AsciiString;

import java.time.Duration;

/**
 * Sets up each accepted TCP connection of a listener. Reads top to bottom:
 * <pre>
 *   count the connection (max_connections, max_connections_per_client)
 *   proxy_protocol:     PROXY v1/v2 header ─► client address
 *   TLS listener:       tls ─ alpn ─► h2 handlers | h1 handlers
 *   plaintext listener: h2c (prior knowledge or Upgrade) ─► h2 handlers | h1 handlers
 * </pre>
 */
final class TcpListenerInitializer extends ChannelInitializer<Channel> {
    /** An h2c Upgrade request with a body larger than this is refused (the upgrade aggregates it). */
    private static final int MAX_UPGRADE_BODY = 64 * 1024;

    private final ListenerContext listener;
    /** The listener's current TLS contexts (null: plaintext), read per connection. */
    private final java.util.function.Supplier<ServerTls> tls;
    private final Duration drainTimeout;
    private final long retryAfterSeconds;

    TcpListenerInitializer(ListenerContext listener, java.util.function.Supplier<ServerTls> tls, Duration drainTimeout, long retryAfterSeconds) {
        this.listener = listener;
        this.tls = tls;
        this.drainTimeout = drainTimeout;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    @Override
    protected void initChannel(Channel ch) {
        if (!addConnectionAccounting(ch)) {
            return;
        }
        ChannelPipeline p = ch.pipeline();
        if (listener.config().proxyProtocol()) {
            ProxyProtocolReader.add(p); // first: the PROXY header comes before TLS or any HTTP byte
        }
        if (tls != null) {
            addTlsHandlers(p);
        } else if (listener.config().protocols().contains(Protocol.H2C)) {
            addCleartextHandlers(p);
        } else {
            listener.connectionObserver().connectionOpened(ch, DownstreamProtocol.HTTP_1_1);
            Http1Initializer.addHttp1Handlers(p, listener, retryAfterSeconds);
        }
    }

    private boolean addConnectionAccounting(Channel ch) {
        // Per client address: the socket's peer. Behind a PROXY-protocol load balancer that is the balancer,
        // so max_connections_per_client does not apply on such a listener (documented).
        java.net.InetAddress client = !listener.config().proxyProtocol()
                && ch.remoteAddress() instanceof java.net.InetSocketAddress a ? a.getAddress() : null;
        if (!listener.tryAcceptConnection(client)) {
            ch.close();
            return false;
        }
        listener.connections().add(ch);
        ch.closeFuture().addListener(f -> listener.connectionClosed(client));
        return true;
    }

    private void addTlsHandlers(ChannelPipeline p) {
        p.addLast("tls", tls.get().newHandler(p.channel().alloc()));
        p.addLast("alpn", new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
            @Override
            protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
                boolean h2 = ApplicationProtocolNames.HTTP_2.equals(protocol);
                listener.connectionObserver().connectionOpened(ctx.channel(),
                        h2 ? DownstreamProtocol.H2 : DownstreamProtocol.HTTP_1_1);
                if (h2) {
                    Http2Initializer.addHttp2Handlers(ctx.pipeline(), listener, drainTimeout, retryAfterSeconds);
                } else {
                    Http1Initializer.addHttp1Handlers(ctx.pipeline(), listener, retryAfterSeconds);
                }
            }

            @Override
            protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) throws Exception {
                listener.connectionObserver().tlsHandshakeFailed();
                super.handshakeFailure(ctx, cause);
            }

            // A client that resets its connection before ALPN is done is not a server failure: Netty's handler
            // logged it at WARN with a stack trace and passed it on to the pipeline's tail, a second WARN
            // (seen in bench/soak.sh's 30-minute run, from downloads abandoned by curl --max-time).
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
                if (cause instanceof java.io.IOException) {
                    org.slf4j.LoggerFactory.getLogger(TcpListenerInitializer.class)
                            .debug("connection from {} failed before ALPN: {}", ctx.channel().remoteAddress(), cause.toString());
                    ctx.close();
                    return;
                }
                super.exceptionCaught(ctx, cause);
            }
        });
    }

    /**
     * h1 and h2c on one port: the cleartext handler looks at the first bytes; the h2 preface switches to h2
     * at once, otherwise h1 runs and an {@code Upgrade: h2c} request switches later (RFC 7540 §3.2).
     */
    private void addCleartextHandlers(ChannelPipeline p) {
        // Counted as h1 until the first bytes say otherwise (prior knowledge or Upgrade: h2c).
        listener.connectionObserver().connectionOpened(p.channel(), DownstreamProtocol.HTTP_1_1);
        HttpServerCodec codec = Http1Initializer.newCodec(listener.limits());
        HttpServerUpgradeHandler.UpgradeCodecFactory upgrades = protocol -> {
            if (AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)) {
                return new Http2ServerUpgradeCodec(Http2Initializer.newCodec(listener.limits(), drainTimeout),
                        Http2Initializer.streams(listener, retryAfterSeconds));
            }
            return null;
        };
        HttpServerUpgradeHandler upgrade = new HttpServerUpgradeHandler(codec, upgrades, MAX_UPGRADE_BODY);
        ChannelInitializer<Channel> priorKnowledge = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                removeHttp1Handlers(ch.pipeline());
                listener.connectionObserver().connectionUpgraded(ch, DownstreamProtocol.H2);
                Http2Initializer.addHttp2Handlers(ch.pipeline(), listener, drainTimeout, retryAfterSeconds);
            }
        };
        // The timers and the scanner go first: they need raw bytes (a partial head decodes to nothing).
        p.addLast("h1-scanner", Http1Initializer.newScanner(listener.limits(), true));
        p.addLast("h2c", new CleartextHttp2ServerUpgradeHandler(codec, upgrade, priorKnowledge));
        p.addLast("session", Http1Initializer.newSession(listener, retryAfterSeconds));
        p.addLast("h2c-upgraded", new UpgradeWatcher());
    }

    private static void removeHttp1Handlers(ChannelPipeline p) {
        for (String name : new String[] {"h1-scanner", "session", "h2c-upgraded"}) {
            if (p.get(name) != null) {
                p.remove(name);
            }
        }
    }

    /** After an {@code Upgrade: h2c}, the h1 handlers leave and the connection reads freely (h2 style). */
    private final class UpgradeWatcher extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof HttpServerUpgradeHandler.UpgradeEvent) {
                ctx.channel().config().setAutoRead(true);
                listener.connectionObserver().connectionUpgraded(ctx.channel(), DownstreamProtocol.H2);
                ChannelPipeline p = ctx.pipeline();
                ctx.fireUserEventTriggered(evt);
                removeHttp1Handlers(p);
                Http2Initializer.addConnectionGuard(p, listener.limits());
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }
    }
}
