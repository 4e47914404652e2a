package io.h3relay.listener.h3;

import io.h3relay.listener.ListenerContext;
import io.h3relay.exchange.DownstreamSession;
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
 */
final class Http3ConnectionGuard extends ChannelInboundHandlerAdapter {
    private final ListenerContext context;
    private QuicChannel connection;
    private int openStreams;
    private long nextStreamId;
    private boolean goingAway;

    Http3ConnectionGuard(ListenerContext context) {
        this.context = context;
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
        ctx.fireUserEventTriggered(evt);
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
