package io.h3relay.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * Last handler of an HTTP/1.1 upstream channel: hands what arrives to the bound stream's
 * {@link UpstreamStream.Listener}. A response the codec could not decode fails the stream
 * ({@link UpstreamFailure.Kind#INVALID_RESPONSE}); anything arriving while the connection sits idle in the
 * pool is a protocol error: the connection closes. In a tunnel, bytes arrive as plain buffers and go on as
 * body parts; the close is the end of the endpoint's side.
 */
final class Http1ConnectionHandler extends ChannelInboundHandlerAdapter {
    private Http1Connection connection;
    private UpstreamStream.Listener listener;
    private Throwable failure;
    /** A write to the endpoint failed: the connection reads on to the endpoint's end, and is never reused. */
    private boolean writeFailed;

    void connection(Http1Connection c) {
        this.connection = c;
    }

    void bind(UpstreamStream.Listener l) {
        this.listener = l;
    }

    void unbind() {
        this.listener = null;
    }

    boolean isBound() {
        return listener != null;
    }

    boolean writeFailed() {
        return writeFailed;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        UpstreamStream.Listener l = listener;
        if (l == null) {
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        if (msg instanceof ByteBuf bytes && connection.inTunnel()) {
            l.onTunnelBytes(bytes);
            return;
        }
        if (!(msg instanceof HttpObject http)) {
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        if (!http.decoderResult().isSuccess()) {
            String why = http.decoderResult().cause().getMessage();
            ReferenceCountUtil.release(msg);
            listener = null;
            ctx.close();
            l.onFailed(new UpstreamFailure(UpstreamFailure.Kind.INVALID_RESPONSE, "invalid response from endpoint "
                    + connection.endpoint() + ": " + why, null));
            return;
        }
        if (http instanceof HttpResponse res) {
            connection.onResponseHead(res);
        } else {
            connection.onResponseBytes();
        }
        l.onResponse(http);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        UpstreamStream.Listener l = listener;
        if (l != null) {
            l.onReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        UpstreamStream.Listener l = listener;
        if (l != null) {
            l.onWritabilityChanged(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        UpstreamStream.Listener l = listener;
        listener = null;
        if (l != null) {
            if (connection.inTunnel() && failure == null) {
                l.onResponse(LastHttpContent.EMPTY_LAST_CONTENT);
            } else {
                l.onFailed(connection.closedFailure(failure));
            }
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Remember why: the listener learns of it once, in channelInactive.
        if (failure == null) {
            failure = cause;
        }
        if (listener != null && !connection.inTunnel() && outputShutDown(ctx) && ctx.channel().isActive()) {
            // A write failed and shut our output (AUTO_CLOSE off, see UpstreamConnector), e.g. the endpoint
            // answered without reading the whole body and closed. What it sent before is still readable: read
            // on until its end (a read error or EOF closes the channel), so that an answer reaches the client
            // instead of a reset. Writes that follow fail here too, into the void.
            writeFailed = true;
            return;
        }
        ctx.close();
    }

    private static boolean outputShutDown(ChannelHandlerContext ctx) {
        return ctx.channel() instanceof DuplexChannel duplex && duplex.isOutputShutdown();
    }
}
