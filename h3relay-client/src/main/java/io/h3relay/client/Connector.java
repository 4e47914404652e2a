package io.h3relay.client;

import io.h3relay.client.h1.Http1Connection;
import io.h3relay.client.h2.Http2Connection;
import io.h3relay.client.h3.Http3Connection;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Opens connections of any protocol: TCP (+ TLS with ALPN) for h1 and h2, h2c by prior knowledge on
 * {@code http://} URLs, QUIC for h3. With no protocol forced, an https URL offers h2 then http/1.1 by
 * ALPN and an http URL speaks h1. The TLS contexts are built once and shared by every connection.
 *
 * <pre>
 *   connect ─► TCP connect ─► [TLS handshake, ALPN] ─► Http1Connection | Http2Connection (after SETTINGS)
 *           └► UDP socket ─► QUIC handshake ─────────► Http3Connection
 * </pre>
 */
public final class Connector {
    private static final String SETUP_ERRORS = "setup-errors";
    private final ClientTls tls;
    private final Transports transports;
    private final Duration timeout;
    private final Map<Protocol, SslContext> tcpContexts = new EnumMap<>(Protocol.class);
    private SslContext alpnContext;
    private QuicSslContext quicContext;

    public Connector(ClientTls tls, Transports transports, Duration timeout) {
        this.tls = tls;
        this.transports = transports;
        this.timeout = timeout;
    }

    /**
     * Connects to {@code target} on {@code loop} (the connection then lives on it). {@code protocol}
     * null means: negotiate. The future fails with a {@link RequestFailure} saying what went wrong.
     */
    public Future<ClientConnection> connect(EventLoop loop, Target target, Protocol protocol) {
        Promise<ClientConnection> promise = loop.newPromise();
        long start = System.nanoTime();
        InetSocketAddress address;
        try {
            address = target.resolve();
            if (address.isUnresolved()) {
                return promise.setFailure(new RequestFailure(ErrorKind.CONNECT, "cannot resolve " + target.host()));
            }
            if (protocol == Protocol.HTTP_3 && !target.tls()) {
                return promise.setFailure(new RequestFailure(ErrorKind.CONNECT, "HTTP/3 needs an https URL"));
            }
        } catch (RuntimeException e) {
            return promise.setFailure(RequestFailure.classify(e, ErrorKind.CONNECT));
        }
        // Whatever hangs (a silent UDP peer, a stalled handshake), the connect ends within the timeout, as
        // "cannot connect": nobody answering is a connect failure, not a request that took too long.
        var timer = loop.schedule(() -> promise.tryFailure(new RequestFailure(ErrorKind.CONNECT,
                "no connection to " + target.origin() + " within " + timeout.toMillis() + " ms")),
                timeout.toMillis(), TimeUnit.MILLISECONDS);
        promise.addListener(f -> {
            timer.cancel(false);
            if (!f.isSuccess()) {
                return;
            }
            ClientConnection c = (ClientConnection) f.getNow();
            if (promise.isCancelled()) {
                c.close();
            }
        });
        try {
            if (protocol == Protocol.HTTP_3) {
                Http3Connection.connect(loop, transports, quic(), address, start, promise);
            } else {
                connectTcp(loop, target, protocol, address, start, promise);
            }
        } catch (SSLException | RuntimeException e) {
            promise.tryFailure(RequestFailure.classify(e, ErrorKind.TLS));
        }
        return promise;
    }

    private void connectTcp(EventLoop loop, Target target, Protocol protocol, InetSocketAddress address,
                            long start, Promise<ClientConnection> promise) throws SSLException {
        SslContext ssl = target.tls() ? tcp(protocol) : null;
        Bootstrap b = new Bootstrap().group(loop).channel(transports.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // Protocol handlers are added once the connection (and ALPN) says which; until
                        // then a failed handshake is reported by its future, so its exception stops here.
                        ch.pipeline().addLast(SETUP_ERRORS, new io.netty.channel.ChannelInboundHandlerAdapter() {
                            @Override
                            public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
                                ctx.close();
                            }
                        });
                    }
                });
        b.connect(address).addListener(cf -> {
            if (!cf.isSuccess()) {
                promise.tryFailure(RequestFailure.classify(cf.cause(), ErrorKind.CONNECT));
                return;
            }
            Channel ch = ((io.netty.channel.ChannelFuture) cf).channel();
            if (promise.isDone()) {
                ch.close();
                return;
            }
            long connected = System.nanoTime() - start;
            if (ssl == null) {
                ConnectionInfo info = new ConnectionInfo(protocol == Protocol.HTTP_2 ? Protocol.HTTP_2 : Protocol.HTTP_1_1,
                        address, null, null, connected, -1);
                install(ch, info, promise);
                return;
            }
            SslHandler tlsHandler = new SslHandler(tls.newEngine(ssl, ch.alloc(), target));
            tlsHandler.setHandshakeTimeoutMillis(timeout.toMillis());
            ch.pipeline().addFirst("tls", tlsHandler);
            tlsHandler.handshakeFuture().addListener(hf -> {
                if (!hf.isSuccess()) {
                    promise.tryFailure(RequestFailure.classify(hf.cause(), ErrorKind.TLS));
                    ch.close();
                    return;
                }
                String alpn = tlsHandler.applicationProtocol();
                Protocol p = ApplicationProtocolNames.HTTP_2.equals(alpn) ? Protocol.HTTP_2 : Protocol.HTTP_1_1;
                if (protocol != null && p != protocol) {
                    promise.tryFailure(new RequestFailure(ErrorKind.TLS, target.origin() + " did not agree to "
                            + protocol.alpn() + " (ALPN: " + (alpn == null ? "none" : alpn) + ")"));
                    ch.close();
                    return;
                }
                SSLSession s = tlsHandler.engine().getSession();
                install(ch, new ConnectionInfo(p, address, s.getProtocol(), s.getCipherSuite(), connected,
                        System.nanoTime() - start), promise);
            });
        });
    }

    private static void install(Channel ch, ConnectionInfo info, Promise<ClientConnection> promise) {
        ch.pipeline().remove(SETUP_ERRORS);
        if (info.protocol() == Protocol.HTTP_2) {
            Http2Connection.install(ch, info, promise);
        } else {
            Http1Connection.install(ch, info, promise);
        }
    }

    private synchronized SslContext tcp(Protocol protocol) throws SSLException {
        if (protocol == null) {
            if (alpnContext == null) {
                alpnContext = tls.tcp(List.of(Protocol.HTTP_2, Protocol.HTTP_1_1));
            }
            return alpnContext;
        }
        SslContext c = tcpContexts.get(protocol);
        if (c == null) {
            c = tls.tcp(List.of(protocol));
            tcpContexts.put(protocol, c);
        }
        return c;
    }

    private synchronized QuicSslContext quic() {
        if (quicContext == null) {
            quicContext = tls.quic();
        }
        return quicContext;
    }
}
