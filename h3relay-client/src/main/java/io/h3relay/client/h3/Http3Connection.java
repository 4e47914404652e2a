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
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.http3.Http3ErrorCode;
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
 * A GET's HEADERS and FIN leave in one packet when the head fits what QUIC may send at once (write, then
 * {@code shutdownOutput()} as soon as the write is done).
 */
public final class Http3Connection implements ClientConnection {
    private final Channel udp;
    private final QuicChannel quic;
    private final ConnectionInfo info;
    private final PeerSettings peerSettings;
    private int inFlight;

    private Http3Connection(Channel udp, QuicChannel quic, ConnectionInfo info, PeerSettings peerSettings) {
        this.udp = udp;
        this.quic = quic;
        this.info = info;
        this.peerSettings = peerSettings;
    }

    public static void connect(EventLoop loop, Transports transports, QuicSslContext tls, InetSocketAddress address,
                               long start, Promise<ClientConnection> promise) {
        QuicClients.bind(loop, transports.datagramChannel(), QuicClients.codec(tls)).addListener(bf -> {
            if (!bf.isSuccess()) {
                promise.tryFailure(RequestFailure.classify(bf.cause(), ErrorKind.CONNECT));
                return;
            }
            Channel udp = ((io.netty.channel.ChannelFuture) bf).channel();
            PeerSettings peerSettings = new PeerSettings();
            QuicChannel.newBootstrap(udp)
                    .handler(new Http3ClientConnectionHandler(peerSettings, null, null, null, true))
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
                        Http3Connection c = new Http3Connection(udp, quic, info, peerSettings);
                        quic.closeFuture().addListener(f -> udp.close());
                        // Ready once the server's SETTINGS arrived (its first frame, about one round trip
                        // after the handshake): only then is its largest request head known.
                        peerSettings.received(quic).addListener(sf -> {
                            if (!sf.isSuccess()) {
                                c.close();
                                promise.tryFailure(RequestFailure.classify(sf.cause(), ErrorKind.CLOSED));
                            } else if (!promise.trySuccess(c)) {
                                c.close();
                            }
                        });
                    });
            // Given up on (the connect timer, a cancel): stop the handshake too, not only the wait.
            promise.addListener(f -> {
                if (!f.isSuccess()) {
                    udp.close();
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
        long limit = peerSettings.maxFieldSectionSize();
        if (request.http3FieldSectionSize() > limit) {
            // Sent anyway, the server would close the connection (and every request on it) without a word.
            handler.fail(new RequestFailure(ErrorKind.PROTOCOL, "the request head is " + request.http3FieldSectionSize()
                    + " bytes (RFC 9114 field section size), the server takes at most " + limit
                    + " (its SETTINGS_MAX_FIELD_SECTION_SIZE)"));
            return () -> { };
        }
        ByteBuf body = request.body();
        Http3.newRequestStream(quic, handler).addListener(f -> {
            if (!f.isSuccess()) {
                handler.fail(RequestFailure.classify(f.cause(), ErrorKind.CLOSED));
                return;
            }
            QuicStreamChannel stream = (QuicStreamChannel) f.getNow();
            handler.stream(stream);
            ChannelFuture head = stream.write(new DefaultHttp3HeadersFrame(request.http3Headers()));
            if (body == null) {
                // The FIN only once the HEADERS frame is written whole. A head larger than what QUIC may
                // send now (the congestion window of a new connection, ~12 KB) is partly queued until
                // credit arrives; Netty's shutdownOutput() sends its FIN at once, past that queue, which
                // would end the stream inside the frame (the peer never sees the request, and we wait for
                // the idle timeout). A head that fits completes at once and the FIN leaves in the same packet.
                head.addListener(w -> {
                    if (w.isSuccess()) {
                        stream.shutdownOutput().addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
                    } else {
                        failStream(handler, stream, w.cause());
                    }
                });
                return;
            }
            head.addListener(w -> {
                if (!w.isSuccess()) {
                    failStream(handler, stream, w.cause());
                }
            });
            // The FIN only once the body is written: a body larger than the peer's flow-control window
            // waits for credit, and shutting the output down before would cut it short.
            stream.writeAndFlush(new DefaultHttp3DataFrame(body)).addListener(w -> {
                if (w.isSuccess()) {
                    stream.shutdownOutput().addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
                } else {
                    failStream(handler, stream, w.cause());
                }
            });
        });
        return handler::cancel;
    }

    /** Whether the server's SETTINGS allow extended CONNECT (RFC 9220), e.g. for a WebSocket. */
    public boolean extendedConnectEnabled() {
        return peerSettings.connectProtocolEnabled();
    }

    /**
     * Opens a request stream that {@code handler} drives itself, frame by frame ({@code Http3HeadersFrame},
     * {@code Http3DataFrame}): for an extended CONNECT, whose stream stays open both ways after the head.
     */
    public Future<QuicStreamChannel> openStream(io.netty.channel.ChannelHandler handler) {
        return Http3.newRequestStream(quic, handler);
    }

    /** A write of the request failed (the head too large for the peer, the stream stopped): fail now, reset the stream. */
    private static void failStream(Http3ResponseHandler handler, QuicStreamChannel stream, Throwable cause) {
        handler.fail(RequestFailure.classify(cause, ErrorKind.CLOSED));
        stream.shutdown(Http3ErrorCode.H3_REQUEST_CANCELLED.code()).addListener(f -> stream.close());
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
