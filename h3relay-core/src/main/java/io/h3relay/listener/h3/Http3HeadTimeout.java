package io.h3relay.listener.h3;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * h3 slowloris: a request stream whose HEADERS frame does not arrive whole within
 * {@code limits.request_headers_timeout} (the h1 head timeout) is reset with H3_REQUEST_INCOMPLETE. The
 * connection stays (a QUIC connection with a trickling stream is not idle, so its idle timeout would not
 * fire). One deadline per stream, from its creation to its first HEADERS frame ({@link Http3RequestStreamGuard}
 * makes it and cancels it), with a timer only when the stream's first read did not bring the HEADERS.
 *
 * <p>The client ending its side (FIN) before a whole HEADERS frame resets the stream at once
 * ({@link #expireNow}), not when the timer fires: the request can never complete (Netty's frame codec drops a
 * frame cut off by FIN without an error; found by {@code it/Http3StreamFuzzTest}: the stream stayed for
 * request_headers_timeout).
 */
final class Http3HeadTimeout {
    private static final Logger LOG = LoggerFactory.getLogger(Http3HeadTimeout.class);

    private final ChannelHandlerContext ctx;
    private final long deadlineNanos;
    private ScheduledFuture<?> timer;

    /** The stream of {@code ctx}, opened now, must have its HEADERS within {@code timeoutNanos}. */
    Http3HeadTimeout(ChannelHandlerContext ctx, long timeoutNanos) {
        this.ctx = ctx;
        this.deadlineNanos = System.nanoTime() + timeoutNanos;
    }

    /**
     * The stream's first read ended without a whole HEADERS frame: the timer starts, for what is left of the time.
     * Not before: nearly every request's HEADERS come in the stream's first read, and a timer set and cancelled
     * per stream was a measurable part of an h3 request.
     */
    void start() {
        if (timer == null) {
            timer = ctx.executor().schedule(this::expired, Math.max(0, deadlineNanos - System.nanoTime()),
                    TimeUnit.NANOSECONDS);
        }
    }

    /** Resets the stream now (its input ended before a whole HEADERS frame). */
    void expireNow() {
        cancel();
        expired();
    }

    private void expired() {
        timer = null;
        if (ctx.channel() instanceof QuicStreamChannel stream && stream.isActive()) {
            LOG.debug("h3 stream {}: no whole HEADERS within request_headers_timeout or before FIN, resetting", stream);
            stream.shutdown(Http3ErrorCode.H3_REQUEST_INCOMPLETE.code());
            stream.close();
        }
    }

    /** HEADERS arrived, or the stream closed. */
    void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
