package io.h3relay.listener.h3;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * h3 slowloris: a request stream whose HEADERS frame does not arrive whole within
 * {@code limits.request_headers_timeout} (the h1 head timeout) is reset with H3_REQUEST_INCOMPLETE. The
 * connection stays (a QUIC connection with a trickling stream is not idle, so its idle timeout would not
 * fire). One timer per stream, from its creation to its first HEADERS frame; then the handler leaves.
 */
final class Http3HeadTimeout extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(Http3HeadTimeout.class);

    private final long timeoutNanos;
    private ScheduledFuture<?> timer;

    Http3HeadTimeout(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(() -> expired(ctx), timeoutNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http3HeadersFrame) {
            cancel();
            ctx.pipeline().remove(this);
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * The client ended its side (FIN) before a whole HEADERS frame: the request can never complete, so it is
     * reset now, not when the timer fires (Netty's frame codec drops a frame cut off by FIN without an error;
     * found by {@code it/Http3StreamFuzzTest}: the stream stayed for request_headers_timeout).
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent
                || evt instanceof io.netty.channel.socket.ChannelInputShutdownReadComplete) {
            cancel();
            expired(ctx);
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void expired(ChannelHandlerContext ctx) {
        timer = null;
        if (ctx.channel() instanceof QuicStreamChannel stream && stream.isActive()) {
            LOG.debug("h3 stream {}: no whole HEADERS within request_headers_timeout or before FIN, resetting", stream);
            stream.shutdown(Http3ErrorCode.H3_REQUEST_INCOMPLETE.code());
            stream.close();
        }
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }
}
