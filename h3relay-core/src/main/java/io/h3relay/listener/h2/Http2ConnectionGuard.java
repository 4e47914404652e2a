package io.h3relay.listener.h2;

import io.h3relay.proxy.ProxyHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * Connection-level policy for h2: close an idle connection (no open stream for keep_alive_timeout), and on
 * drain start the graceful shutdown (GOAWAY, streams finish until the codec's graceful timeout).
 */
final class Http2ConnectionGuard extends ChannelInboundHandlerAdapter {
    private final Http2FrameCodec codec;

    Http2ConnectionGuard(Http2FrameCodec codec) {
        this.codec = codec;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            if (codec.connection().numActiveStreams() == 0) {
                ctx.close();
            }
            return;
        }
        if (evt == ProxyHandler.DRAIN_EVENT) {
            // Http2ConnectionHandler.close() sends GOAWAY and waits for open streams (graceful two-step).
            ctx.channel().close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }
}
