package io.h3relay.listener.h1;

import io.h3relay.exchange.ErrorCode;
import io.h3relay.exchange.LocalResponses;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/1.x connection timers, run by the head scanner ({@link Http1HeadScanner}) on the raw bytes in front of
 * the codec (one handler for both: a pipeline hop less per read):
 * <ul>
 *   <li>keep-alive: no byte of a next request within {@code keep_alive_timeout} → close quietly;</li>
 *   <li>request head: a request started but its head not complete within {@code request_headers_timeout}
 *       → 408 with the JSON envelope, then close (slowloris).</li>
 * </ul>
 * Deadlines are plain fields; one timer per connection wakes at the earliest one and re-arms itself, so
 * a request costs no timer scheduling or cancelling (that showed in profiles at tens of thousands of
 * requests per second).
 */
public final class Http1RequestTimeouts {
    private static final long NONE = Long.MAX_VALUE;

    private final long keepAliveNanos;
    private final long headNanos;
    private ChannelHandlerContext ctx;
    private boolean awaitingHead;
    private long idleDeadline = NONE;
    private long headDeadline = NONE;
    private ScheduledFuture<?> timer;
    private long timerDeadline = NONE;

    public Http1RequestTimeouts(Duration keepAlive, Duration requestHead) {
        this.keepAliveNanos = keepAlive.toNanos();
        this.headNanos = requestHead.toNanos();
    }

    /** The scanner's context: where the timers run and the 408 is written from. */
    void attach(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Called when the connection waits for the next request head. */
    void awaitingHead() {
        awaitingHead = true;
        headDeadline = NONE;
        idleDeadline = keepAliveNanos > 0 ? System.nanoTime() + keepAliveNanos : NONE;
        arm(idleDeadline);
    }

    /** Called when a request head was decoded. */
    void headReceived() {
        awaitingHead = false;
        idleDeadline = NONE;
        headDeadline = NONE;
    }

    /** A read of the connection, before the scanner looks at it: the first byte of a head starts its deadline. */
    void onRead(Object msg) {
        if (awaitingHead && headDeadline == NONE && headNanos > 0 && msg instanceof ByteBuf buf && buf.isReadable()) {
            idleDeadline = NONE;
            headDeadline = System.nanoTime() + headNanos;
            arm(headDeadline);
        }
    }

    /** Makes sure a timer fires no later than {@code deadline}; an earlier pending timer is kept. */
    private void arm(long deadline) {
        if (deadline == NONE || (timer != null && timerDeadline <= deadline)) {
            return;
        }
        if (timer != null) {
            timer.cancel(false);
        }
        timerDeadline = deadline;
        timer = ctx.executor().schedule(this::onTimer, Math.max(0, deadline - System.nanoTime()),
                TimeUnit.NANOSECONDS);
    }

    private void onTimer() {
        timer = null;
        timerDeadline = NONE;
        if (!ctx.channel().isActive() || !awaitingHead) {
            return;
        }
        long now = System.nanoTime();
        if (headDeadline != NONE && now - headDeadline >= 0) {
            headTimedOut();
        } else if (headDeadline == NONE && idleDeadline != NONE && now - idleDeadline >= 0) {
            ctx.close();
        } else {
            arm(headDeadline != NONE ? headDeadline : idleDeadline);
        }
    }

    private void headTimedOut() {
        awaitingHead = false;
        FullHttpResponse res = LocalResponses.error(ctx.alloc(), ErrorCode.REQUEST_TIMEOUT,
                "request headers not received within " + TimeUnit.NANOSECONDS.toMillis(headNanos) + "ms", "");
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        // From the tail, so the response goes through the HTTP encoder after us.
        ctx.channel().writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
    }

    /** The connection closed, or the scanner left (h2c upgrade, tunnel): no more timers. */
    void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
