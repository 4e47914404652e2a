package io.h3relay.client.h3;

import io.h3relay.client.Cancellable;
import io.h3relay.client.ClientConnection;
import io.h3relay.client.ConnectionInfo;
import io.h3relay.client.ErrorKind;
import io.h3relay.client.Protocol;
import io.h3relay.client.RequestFailure;
import io.h3relay.client.RequestSpec;
import io.h3relay.client.ResponseListener;
import io.h3relay.client.Transports;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import javax.net.ssl.SSLSession;
import java.net.InetSocketAddress;

/**
 * An HTTP/3 connection: a QUIC connection on a UDP socket of its own, one request stream per request.
 * A GET's HEADERS and FIN leave in one packet (write, then {@code shutdownOutput()}, which flushes once).
 */
public final class Http3Connection implements ClientConnection {
    private final Channel udp;
    private final QuicChannel quic;
    private final ConnectionInfo info;
    private int inFlight;

    private Http3Connection(Channel udp, QuicChannel quic, ConnectionInfo info) {
        this.udp = udp;
        this.quic = quic;
        this.info = info;
    }

    public static void connect(EventLoop loop, Transports transports, QuicSslContext tls, InetSocketAddress address,
                               long start, Promise<ClientConnection> promise) {
        QuicClients.bind(loop, transports.datagramChannel(), QuicClients.codec(tls)).addListener(bf -> {
            if (!bf.isSuccess()) {
                promise.tryFailure(RequestFailure.classify(bf.cause(), ErrorKind.CONNECT));
                return;
            }
            Channel udp = ((io.netty.channel.ChannelFuture) bf).channel();
            QuicChannel.newBootstrap(udp)
                    .handler(new Http3ClientConnectionHandler())
                    .remoteAddress(address)
                    .connect()
                    .addListener(qf -> {
                        if (!qf.isSuccess()) {
                            udp.close();
                            promise.tryFailure(RequestFailure.classify(qf.cause(), ErrorKind.TLS));
                            return;
                        }
                        QuicChannel quic = (QuicChannel) qf.getNow();
                        SSLSession s = quic.sslEngine() == null ? null : quic.sslEngine().getSession();
                        ConnectionInfo info = new ConnectionInfo(Protocol.HTTP_3, address,
                                s == null ? "TLSv1.3" : s.getProtocol(), s == null ? null : s.getCipherSuite(),
                                -1, System.nanoTime() - start);
                        Http3Connection c = new Http3Connection(udp, quic, info);
                        quic.closeFuture().addListener(f -> udp.close());
                        if (!promise.trySuccess(c)) {
                            c.close();
                        }
                    });
        });
    }

    @Override
    public Protocol protocol() {
        return Protocol.HTTP_3;
    }

    @Override
    public ConnectionInfo info() {
        return info;
    }

    @Override
    public EventLoop eventLoop() {
        return quic.eventLoop();
    }

    @Override
    public boolean isUsable() {
        return quic.isActive();
    }

    @Override
    public int maxConcurrent() {
        // Streams in flight plus what the peer still allows us to open.
        return (int) Math.min(Integer.MAX_VALUE, inFlight + quic.peerAllowedStreams(QuicStreamType.BIDIRECTIONAL));
    }

    @Override
    public int inFlight() {
        return inFlight;
    }

    @Override
    public Cancellable send(RequestSpec request, ResponseListener listener) {
        inFlight++;
        Http3ResponseHandler handler = new Http3ResponseHandler(listener, () -> inFlight--);
        ByteBuf body = request.body();
        Http3.newRequestStream(quic, handler).addListener(f -> {
            if (!f.isSuccess()) {
                handler.fail(RequestFailure.classify(f.cause(), ErrorKind.CLOSED));
                return;
            }
            QuicStreamChannel stream = (QuicStreamChannel) f.getNow();
            handler.stream(stream);
            stream.write(new DefaultHttp3HeadersFrame(request.http3Headers()))
                    .addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
            if (body == null) {
                stream.shutdownOutput().addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
                return;
            }
            // The FIN only once the body is written: a body larger than the peer's flow-control window
            // waits for credit, and shutting the output down before would cut it short.
            stream.writeAndFlush(new DefaultHttp3DataFrame(body)).addListener(w -> {
                if (w.isSuccess()) {
                    stream.shutdownOutput().addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
                } else {
                    handler.fail(RequestFailure.classify(w.cause(), ErrorKind.CLOSED));
                    stream.close();
                }
            });
        });
        return handler::cancel;
    }

    @Override
    public void flush() {
        // Each request stream flushes itself when its output is shut down.
    }

    @Override
    public Future<?> closeFuture() {
        return udp.closeFuture();
    }

    @Override
    public void close() {
        QuicClients.close(quic, udp);
    }
}
