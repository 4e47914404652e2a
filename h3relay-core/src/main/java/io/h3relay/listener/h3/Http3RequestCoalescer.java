package io.h3relay.listener.h3;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Netty's HTTP/3 adapter emits a request head before it knows whether a body follows (the FIN may come in
 * a later packet), and marks every head without Content-Length as chunked. This handler holds the head
 * until the next message: a bare end-of-stream turns it into a bodiless request, as h1 and h2 present
 * it, so a GET is not forwarded upstream as a chunked request with an empty body.
 */
final class Http3RequestCoalescer extends ChannelInboundHandlerAdapter {
    private HttpRequest held;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest req && !(msg instanceof LastHttpContent)) {
            if (HttpMethod.CONNECT.equals(req.method())) {
                // An extended CONNECT (RFC 9220) keeps its stream open and waits for our answer: never hold it.
                req.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
                ctx.fireChannelRead(req);
                return;
            }
            held = req;
            return;
        }
        if (held != null) {
            HttpRequest head = held;
            held = null;
            if (msg instanceof LastHttpContent last && !last.content().isReadable() && last.trailingHeaders().isEmpty()) {
                last.release();
                head.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
                ctx.fireChannelRead(new DefaultFullHttpRequest(head.protocolVersion(), head.method(), head.uri(),
                        Unpooled.EMPTY_BUFFER, head.headers(), io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE));
                return;
            }
            ctx.fireChannelRead(head);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (held != null && !ctx.channel().config().isAutoRead()) {
            ctx.read(); // we hold a head: the proxy cannot ask for more until it sees it
        }
        ctx.fireChannelReadComplete();
    }
}
