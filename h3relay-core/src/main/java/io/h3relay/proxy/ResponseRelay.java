package io.h3relay.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.util.concurrent.TimeUnit;

/**
 * The response direction of a {@link Forwarding}: the endpoint's response head and body go downstream,
 * and the upstream connection reads only while the downstream channel can take more.
 */
final class ResponseRelay {
    private final Forwarding forwarding;
    private final Exchange ex;
    private final ChannelHandlerContext ctx;
    private boolean complete;
    private boolean waitingDownstreamWritable;

    ResponseRelay(Forwarding forwarding) {
        this.forwarding = forwarding;
        this.ex = forwarding.ex;
        this.ctx = forwarding.ctx;
    }

    boolean isComplete() {
        return complete;
    }

    /** A response head or body part from the current attempt, already accepted (not retried). */
    void onResponse(UpstreamAttempt a, HttpObject msg) {
        if (msg instanceof HttpResponse res) {
            onHead(a, res);
        }
        if (msg instanceof HttpContent content) {
            if (msg instanceof HttpResponse && msg instanceof FullHttpMessage full) {
                content = new DefaultLastHttpContent(full.content(), full.trailingHeaders());
            }
            ex.responseBodyBytes += content.content().readableBytes();
            if (content instanceof LastHttpContent) {
                complete = true;
                ex.lastWrite = ctx.writeAndFlush(content);
                forwarding.completeExchange();
            } else {
                writeDownstream(content);
            }
        }
    }

    private void onHead(UpstreamAttempt a, HttpResponse res) {
        HttpHeaders h = res.headers();
        ForwardingHeaders.toDownstream(h, a.stream().viaVersion(), ex.requestId,
                forwarding.route.responseHeaders());
        HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, res.status(), h);
        ex.writeResponseHead(out);
        writeDownstream(out);
    }

    /**
     * Void promise: a failed write (the client went away) reaches the pipeline as an exception, which
     * ends the exchange and cancels the upstream attempt, without a listener per chunk.
     */
    private void writeDownstream(HttpObject msg) {
        ctx.write(msg, ctx.voidPromise());
    }

    void onReadComplete(UpstreamAttempt a) {
        ctx.flush();
        if (!downstreamCanTakeMore()) {
            waitingDownstreamWritable = true;
            a.readResponse(false);
        }
    }

    void onDownstreamWritabilityChanged(boolean writable) {
        if (writable && waitingDownstreamWritable) {
            if (!downstreamCanTakeMore()) {
                // A QUIC stream may report writable with no capacity yet (netty#17429): look again shortly
                // instead of resuming reads that would pile up in the stream's queue.
                ctx.executor().schedule(() -> {
                    if (!forwarding.isFinished()) {
                        onDownstreamWritabilityChanged(ctx.channel().isWritable());
                    }
                }, 1, TimeUnit.MILLISECONDS);
                return;
            }
            waitingDownstreamWritable = false;
            forwarding.attempt.readResponse(true);
        }
    }

    private boolean downstreamCanTakeMore() {
        return ctx.channel().isWritable() && ctx.channel().bytesBeforeUnwritable() > 0;
    }

    /** Forwarding ended: a connection paused for backpressure reads again (pooled connections read while idle). */
    void end(UpstreamAttempt attempt) {
        if (attempt != null && waitingDownstreamWritable) {
            waitingDownstreamWritable = false;
            attempt.readResponse(true);
        }
    }
}
