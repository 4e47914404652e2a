package io.h3relay.listener.h1;

import io.h3relay.proxy.ErrorCode;
import io.h3relay.proxy.LocalResponses;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/1.x connection timers, in front of the codec so it sees raw bytes:
 * <ul>
 *   <li>keep-alive: no byte of a next request within {@code keep_alive_timeout} → close quietly;</li>
 *   <li>request head: a request started but its head not complete within {@code request_headers_timeout}
 *       → 408 with the JSON envelope, then close (slowloris).</li>
 * </ul>
 */
public final class Http1RequestTimeouts extends ChannelInboundHandlerAdapter {
    private final long keepAliveMillis;
    private final long headMillis;
    private ChannelHandlerContext ctx;
    private boolean awaitingHead;
    private ScheduledFuture<?> idleTimer;
    private ScheduledFuture<?> headTimer;

    public Http1RequestTimeouts(Duration keepAlive, Duration requestHead) {
        this.keepAliveMillis = keepAlive.toMillis();
        this.headMillis = requestHead.toMillis();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Called when the connection waits for the next request head. */
    public void awaitingHead() {
        awaitingHead = true;
        cancel();
        if (keepAliveMillis > 0) {
            idleTimer = ctx.executor().schedule(() -> {
                if (awaitingHead && headTimer == null) {
                    ctx.close();
                }
            }, keepAliveMillis, TimeUnit.MILLISECONDS);
        }
    }

    /** Called when a request head was decoded. */
    public void headReceived() {
        awaitingHead = false;
        cancel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (awaitingHead && headTimer == null && headMillis > 0 && msg instanceof ByteBuf buf && buf.isReadable()) {
            if (idleTimer != null) {
                idleTimer.cancel(false);
                idleTimer = null;
            }
            headTimer = ctx.executor().schedule(this::headTimedOut, headMillis, TimeUnit.MILLISECONDS);
        }
        ctx.fireChannelRead(msg);
    }

    private void headTimedOut() {
        if (!awaitingHead || !ctx.channel().isActive()) {
            return;
        }
        awaitingHead = false;
        FullHttpResponse res = LocalResponses.error(ctx.alloc(), ErrorCode.REQUEST_TIMEOUT,
                "request headers not received within " + headMillis + "ms", "");
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        // From the tail, so the response goes through the HTTP encoder after us.
        ctx.channel().writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel(); // upgraded to h2c: the h2 codec takes over idle handling
    }

    private void cancel() {
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
        if (headTimer != null) {
            headTimer.cancel(false);
            headTimer = null;
        }
    }
}
