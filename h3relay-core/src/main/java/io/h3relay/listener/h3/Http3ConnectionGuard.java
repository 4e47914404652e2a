package io.h3relay.listener.h3;

import io.h3relay.listener.ListenerContext;
import io.h3relay.exchange.DownstreamSession;
import io.h3relay.quic.StreamsClosedBeforeFin;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http3.DefaultHttp3GoAwayFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;

/**
 * Connection-level policy for h3: counts open request streams and drains. On drain it sends GOAWAY with
 * the first stream id it will not serve; streams opened after that are refused, and the connection closes
 * (H3_NO_ERROR) once its last stream is done. The server's drain timeout closes what remains.
 * All state is touched on the connection's event loop only.
 *
 * <p>The same GOAWAY ends a connection on which {@value StreamsClosedBeforeFin#LIMIT} request streams closed before
 * their FIN was read (a request answered before its upload ended, a request the client cancelled, a malformed one
 * reset): Netty keeps each of those until the connection closes ({@link StreamsClosedBeforeFin}), and one client
 * sending uploads that are answered early, or cancelling requests, grew the proxy's heap without limit on one
 * connection. The client carries on over a new connection, as after any GOAWAY.
 */
final class Http3ConnectionGuard extends ChannelInboundHandlerAdapter {
    private final ListenerContext context;
    private QuicChannel connection;
    private int openStreams;
    private long nextStreamId;
    private boolean goingAway;
    private final StreamsClosedBeforeFin closedBeforeFin = new StreamsClosedBeforeFin();
    private final long createdNanos = System.nanoTime();
    /** Streams held until the handshake completes (0-RTT, zero_rtt_unsafe: wait). */
    private java.util.List<Runnable> handshakeWaiters;
    private volatile boolean resumed;
    private volatile int earlyRequests;

    /** Set by {@link #bypass}: request streams get their handlers from this initializer and skip that handler. */
    private Http3StreamInitializer requestStreams;
    private io.netty.channel.ChannelHandler bypassed;
    private ChannelHandlerContext bypassedContext;

    Http3ConnectionGuard(ListenerContext context) {
        this.context = context;
    }

    /**
     * The client's request streams (bidirectional streams) get their handlers from {@code initializer} and go
     * past {@code handler} (Netty's HTTP/3 connection handler, which would add its frame codec and validators to
     * each; it keeps nothing per request stream): they reach the end of the connection's pipeline, where Netty
     * registers them.
     */
    void bypass(io.netty.channel.ChannelHandler handler, Http3StreamInitializer initializer) {
        this.bypassed = handler;
        this.requestStreams = initializer;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (requestStreams != null && msg instanceof QuicStreamChannel stream
                && stream.type() == io.netty.handler.codec.quic.QuicStreamType.BIDIRECTIONAL) {
            ChannelHandlerContext past = bypassedContext;
            if (past == null || past.isRemoved()) {
                past = bypassedContext = ctx.pipeline().context(bypassed);
            }
            if (past != null) {
                requestStreams.install(stream);
                past.fireChannelRead(msg);
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.connection = (QuicChannel) ctx.channel();
    }

    /**
     * A client request stream was opened: false when it must be refused (it came after our GOAWAY). A
     * connection made while the server drains has had no GOAWAY yet: its first requests are answered 503
     * with Retry-After, and that answer sends the GOAWAY (see DownstreamSession#connectionDraining).
     */
    boolean streamOpened(QuicStreamChannel stream) {
        if (goingAway) {
            return false;
        }
        openStreams++;
        nextStreamId = Math.max(nextStreamId, stream.streamId() + 4);
        stream.closeFuture().addListener(f -> {
            openStreams--;
            if (goingAway && openStreams == 0) {
                closeConnection();
            }
        });
        return true;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == DownstreamSession.DRAIN_EVENT) {
            goAway();
            return;
        }
        if (evt instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent e && e.isSuccess()
                && QuicSessions.resumed(connection)) {
            resumed = true;
            context.connectionObserver().quicSessionResumed();
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** The handshake completed (a server QUIC channel becomes active then): held early requests go on. */
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.fireChannelActive();
        java.util.List<Runnable> waiting = handshakeWaiters;
        handshakeWaiters = null;
        if (waiting != null) {
            waiting.forEach(Runnable::run);
        }
    }

    /** Runs {@code r} once the handshake has completed (now, if it has). Event loop only. */
    void whenHandshakeDone(Runnable r) {
        if (connection.isActive()) {
            r.run();
            return;
        }
        if (handshakeWaiters == null) {
            handshakeWaiters = new java.util.ArrayList<>(2);
        }
        handshakeWaiters.add(r);
    }

    /**
     * A request stream closed before its FIN was read: Netty keeps it in the connection's stream map. At the limit
     * the connection is drained (GOAWAY, then closed once its streams are done). Event loop only.
     */
    void streamClosedBeforeFin() {
        if (closedBeforeFin.add()) {
            goAway();
        }
    }

    void earlyRequest() {
        earlyRequests++;
    }

    /** Request streams open now. Event loop only. */
    int openStreams() {
        return openStreams;
    }

    long ageNanos() {
        return System.nanoTime() - createdNanos;
    }

    boolean resumed() {
        return resumed;
    }

    int earlyRequests() {
        return earlyRequests;
    }

    private void goAway() {
        if (goingAway) {
            return;
        }
        goingAway = true;
        QuicStreamChannel control = Http3.getLocalControlStream(connection);
        if (control != null) {
            control.writeAndFlush(new DefaultHttp3GoAwayFrame(nextStreamId));
        }
        if (openStreams == 0) {
            closeConnection();
        }
    }

    private void closeConnection() {
        connection.close(true, Http3ErrorCode.H3_NO_ERROR.code(), io.netty.buffer.Unpooled.EMPTY_BUFFER);
    }
}
