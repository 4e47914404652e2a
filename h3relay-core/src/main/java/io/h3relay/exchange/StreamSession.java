package io.h3relay.exchange;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

/**
 * One exchange on one h2 stream or h3 stream channel. The stream's codec frames the response (END_STREAM, DATA);
 * what differs between h2 and h3 is how a stream is stopped or cut, and QUIC's writability reports.
 */
abstract class StreamSession extends SessionHandler {

    StreamSession(ListenerState listener, ExchangeStarter starter, long retryAfterSeconds) {
        super(listener, starter, retryAfterSeconds);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        super.handlerAdded(ctx);
        if (ctx.channel().isActive()) {
            readRequest(true);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        readRequest(true);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) {
            release(msg);
        } else if (isStreamReset(msg)) {
            // The client reset its stream: stop the exchange; the stream closes next.
            release(msg);
            if (current != null) {
                current.onClosed();
            }
        } else if (current != null && msg instanceof HttpContent content) {
            current.onRequestContent(content);
        } else if (current == null && msg instanceof HttpRequest req) {
            startExchange(req);
        } else {
            release(msg); // the rest of a body we already answered and gave up on
        }
    }

    /** A head without END_STREAM comes as a plain HttpRequest, with it as a FullHttpRequest. */
    @Override
    public boolean bodyFollows(HttpRequest head, long declaredLength) {
        return !(head instanceof io.netty.handler.codec.http.LastHttpContent);
    }

    /** The protocol's "client cancelled the stream" message, if {@code msg} is one. */
    abstract boolean isStreamReset(Object msg);

    @Override
    void frameHead(HttpResponse head, boolean whole) {
    }


    @Override
    public void exchangeFinished(boolean requestComplete) {
        if (current == null) {
            return;
        }
        current = null;
        if (!requestComplete) {
            closing = true;
            if (lastWrite == null) {
                closeChannel();
            } else {
                // Only once the response went out: a reset drops the stream's data still queued in flow
                // control, and a bare close would do that too, with CANCEL.
                lastWrite.addListener((ChannelFutureListener) this::abandonRequest);
            }
        } else if (closeAfterResponse) {
            closeChannel();
        }
    }

    /**
     * The response went out ({@code sent}) but the client is still sending its body (e.g. a 413): stop the
     * upload in a way that tells the client to keep the response, and close the stream.
     */
    void abandonRequest(ChannelFuture sent) {
        stopUnfinishedRequest();
        closeChannel();
    }

    /**
     * The response is complete but the client is still sending its body (e.g. a 413): stop the upload in a
     * way that tells the client to keep the response.
     */
    abstract void stopUnfinishedRequest();

    @Override
    public void abort() {
        closing = true;
        resetStream();
        closeChannel();
    }

    /** Cut the stream both ways so that the client does not take what it got as a complete response. */
    abstract void resetStream();

    @Override
    public void connectionDraining() {
        var parent = ctx.channel().parent();
        if (parent != null) {
            parent.pipeline().fireUserEventTriggered(DRAIN_EVENT);
        }
    }

    @Override
    public void enterTunnel() {
        // Extended CONNECT tunnels (RFC 8441, RFC 9220) carry their bytes in DATA frames: nothing to remove.
    }
}
