package io.h3relay.listener.h2;

import io.h3relay.exchange.DownstreamSession;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * Connection-level policy for h2: close an idle connection (no open stream for keep_alive_timeout), and on
 * drain start the graceful shutdown (two GOAWAYs, streams finish until the codec's graceful timeout).
 *
 * <p>Idle means: no open stream, and nothing read and no stream ended for {@code idleNanos}. One timer per
 * connection checks it (rescheduled to the end of the current idle period, so about once per period). Netty's
 * {@code IdleStateHandler}, which did this before, also watched writes: it turned every write on the connection
 * (several per response: the HEADERS and DATA frames, each in parts) into one with a promise and a listener of
 * its own, which showed in profiles and allocation. A write on a connection without streams follows a read or a
 * stream's end (a SETTINGS or PING acknowledgement, a response's last frame), so reads and stream ends are the
 * activity that matters.
 */
final class Http2ConnectionGuard extends ChannelInboundHandlerAdapter {
    /** Time for requests already sent to arrive after the first GOAWAY: a generous round trip (Go uses 1 s). */
    static final long FINAL_GOAWAY_DELAY_MILLIS = 1000;

    private final Http2FrameCodec codec;
    /** keep_alive_timeout in nanoseconds; 0: never closed for idleness. */
    private final long idleNanos;
    private boolean draining;
    /** System.nanoTime() of the last read batch or stream end. */
    private long lastActivity;
    private ScheduledFuture<?> idleTimer;

    Http2ConnectionGuard(Http2FrameCodec codec, long idleNanos) {
        this.codec = codec;
        this.idleNanos = Math.max(0, idleNanos);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (idleNanos == 0) {
            return;
        }
        lastActivity = System.nanoTime();
        codec.connection().addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(Http2Stream stream) {
                lastActivity = System.nanoTime();
            }
        });
        if (ctx.channel().isActive()) {
            armIdle(ctx, idleNanos);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (idleNanos > 0 && idleTimer == null) {
            lastActivity = System.nanoTime();
            armIdle(ctx, idleNanos);
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (idleNanos > 0) {
            lastActivity = System.nanoTime();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelIdle();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelIdle();
    }

    private void armIdle(ChannelHandlerContext ctx, long delayNanos) {
        idleTimer = ctx.executor().schedule(() -> checkIdle(ctx), delayNanos, TimeUnit.NANOSECONDS);
    }

    private void cancelIdle() {
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
    }

    /** Closes the connection once it has been idle for keep_alive_timeout without an open stream. */
    private void checkIdle(ChannelHandlerContext ctx) {
        idleTimer = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        long left = idleNanos - (System.nanoTime() - lastActivity);
        if (left <= 0) {
            if (codec.connection().numActiveStreams() == 0) {
                ctx.close();
                return;
            }
            left = idleNanos; // streams open but quiet: they have their own timeouts; look again a period later
        }
        armIdle(ctx, left);
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
        if (evt == DownstreamSession.DRAIN_EVENT) {
            goAwayTwoStep(ctx);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }
}
