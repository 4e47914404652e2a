package io.h3relay.cluster;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;

/**
 * Last handler of a pooled upstream channel: hands what arrives to the bound {@link UpstreamListener}.
 * Anything arriving while the connection sits idle in the pool is a protocol error: the connection closes.
 */
final class UpstreamConnectionHandler extends ChannelInboundHandlerAdapter {
    private UpstreamListener listener;
    private Throwable failure;

    void bind(UpstreamListener l) {
        this.listener = l;
    }

    void unbind() {
        this.listener = null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        UpstreamListener l = listener;
        if (l != null && msg instanceof HttpObject http) {
            l.onResponse(http);
        } else {
            ReferenceCountUtil.release(msg);
            ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        UpstreamListener l = listener;
        if (l != null) {
            l.onReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        UpstreamListener l = listener;
        if (l != null) {
            l.onWritabilityChanged(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        UpstreamListener l = listener;
        listener = null;
        if (l != null) {
            l.onClosed(failure);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Remember why, then close: the listener learns of it once, in channelInactive.
        if (failure == null) {
            failure = cause;
        }
        ctx.close();
    }
}
