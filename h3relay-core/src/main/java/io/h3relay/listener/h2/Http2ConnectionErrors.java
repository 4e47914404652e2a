package io.h3relay.listener.h2;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Exception;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of an h2 connection. {@code Http2FrameCodec} answers a connection error from the client
 * (a PRIORITY on stream 0, DATA for a reset stream, ...) with GOAWAY and closes, and then also passes the
 * exception down the pipeline, where nothing handled it: Netty logged "exceptionCaught() reached the tail of
 * the pipeline" at WARN for client input (found by {@code Http2FramesFuzzTest}). Client protocol errors end
 * here at DEBUG, and so does a connection the client reset (an {@link java.io.IOException}); anything else is
 * logged and the connection closed.
 */
final class Http2ConnectionErrors extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(Http2ConnectionErrors.class);

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2Exception) {
            LOG.debug("h2 connection error from {}: {}", ctx.channel().remoteAddress(), cause.getMessage());
            return; // the codec has sent GOAWAY and is closing
        }
        if (cause instanceof java.io.IOException) {
            // The client reset the connection (seen in bench/soak.sh: downloads abandoned by curl --max-time).
            LOG.debug("h2 connection from {} lost: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
            return;
        }
        LOG.warn("h2 connection from {} failed", ctx.channel().remoteAddress(), cause);
        ctx.close();
    }
}
