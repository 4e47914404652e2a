package io.h3relay.exchange;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2ResetFrame;

/** One h2 stream: the client's RST_STREAM ends the exchange; we stop uploads and cut streams with RST_STREAM. */
public final class Http2StreamSession extends StreamSession {

    public Http2StreamSession(ListenerState listener, ExchangeStarter starter, long retryAfterSeconds) {
        super(listener, starter, retryAfterSeconds);
    }

    @Override
    public DownstreamProtocol protocol() {
        return DownstreamProtocol.H2;
    }

    @Override
    void frameHead(io.netty.handler.codec.http.HttpResponse head, boolean whole) {
        advertiseHttp3(head);
    }

    @Override
    boolean isStreamReset(Object msg) {
        return msg instanceof Http2ResetFrame;
    }

    /** RST_STREAM NO_ERROR after a complete response tells the client to keep it (RFC 9113 section 8.1). */
    @Override
    void stopUnfinishedRequest() {
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
    }

    @Override
    void malformedRequest(ChannelHandlerContext ctx) {
        // RFC 9113 section 8.1.1: a malformed request is a stream error of type PROTOCOL_ERROR.
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR)).addListener(f -> ctx.close());
    }

    /**
     * A stream error the codec found in the client's frames after the head (a {@code content-length} the DATA
     * does not match, RFC 9113 section 8.1.1): reset with the codec's code (PROTOCOL_ERROR), not the
     * CANCEL a bare close sends. Closing the stream channel ends the exchange (and its upstream request).
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Only while no whole response went out: after a local answer (a 413, say) the stream is being stopped
        // with NO_ERROR already (stopUnfinishedRequest), which stays.
        if (cause instanceof Http2Exception.StreamException e && ctx.channel().isActive() && lastWrite == null) {
            closing = true;
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(e.error())).addListener(f -> ctx.close());
            return;
        }
        super.exceptionCaught(ctx, cause);
    }

    @Override
    void resetStream() {
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR));
    }
}
