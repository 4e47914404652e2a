package io.h3relay.listener.h2;

import io.h3relay.exchange.DownstreamSession;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.timeout.IdleStateEvent;

import java.util.concurrent.TimeUnit;

/**
 * Connection-level policy for h2: close an idle connection (no open stream for keep_alive_timeout), and on
 * drain start the graceful shutdown (two GOAWAYs, streams finish until the codec's graceful timeout).
 */
final class Http2ConnectionGuard extends ChannelInboundHandlerAdapter {
    /** Time for requests already sent to arrive after the first GOAWAY: a generous round trip (Go uses 1 s). */
    static final long FINAL_GOAWAY_DELAY_MILLIS = 1000;

    private final Http2FrameCodec codec;
    private boolean draining;

    Http2ConnectionGuard(Http2FrameCodec codec) {
        this.codec = codec;
    }

    /**
     * The graceful GOAWAY of RFC 9113 section 6.8: first GOAWAY with the largest stream id (new streams
     * still welcome: requests already on the wire are not lost), then, a round trip later, GOAWAY with the
     * last stream actually opened, after which Http2ConnectionHandler's close waits for the open streams
     * (until the drain timeout). Netty's close() alone sends only the second.
     */
    private void goAwayTwoStep(ChannelHandlerContext ctx) {
        if (draining || !ctx.channel().isActive()) {
            return;
        }
        draining = true;
        ChannelHandlerContext codecCtx = ctx.pipeline().context(codec);
        codec.goAway(codecCtx, Integer.MAX_VALUE, Http2Error.NO_ERROR.code(), Unpooled.EMPTY_BUFFER,
                codecCtx.newPromise());
        codecCtx.flush();
        ctx.executor().schedule(() -> {
            if (!ctx.channel().isActive()) {
                return;
            }
            int last = codec.connection().remote().lastStreamCreated();
            codec.goAway(codecCtx, last, Http2Error.NO_ERROR.code(), Unpooled.EMPTY_BUFFER, codecCtx.newPromise());
            codecCtx.flush();
            ctx.channel().close(); // waits for the streams up to `last`
        }, FINAL_GOAWAY_DELAY_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            if (codec.connection().numActiveStreams() == 0) {
                ctx.close();
            }
            return;
        }
        if (evt == DownstreamSession.DRAIN_EVENT) {
            goAwayTwoStep(ctx);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }
}
