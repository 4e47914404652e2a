package io.h3relay.exchange;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;

/**
 * An exchange as its {@link DownstreamSession} sees it: what arrives from the client, and the channel's
 * events. Made by an {@link ExchangeStarter} per request; all calls on the session's event loop.
 */
public interface DownstreamExchange {
    /** The request head (a {@code FullHttpRequest} carries its whole body). */
    void start(HttpRequest head);

    /** A request body part; a {@code LastHttpContent} ends the request. */
    void onRequestContent(HttpContent content);

    /**
     * Bytes from the client after the request became a tunnel (h1: the raw TCP stream after a 101): the
     * same as a body part, without wrapping each read in one. The default wraps them.
     */
    default void onTunnelBytes(ByteBuf bytes) {
        onRequestContent(new DefaultHttpContent(bytes));
    }

    /** A read burst ended. */
    void onReadComplete();

    /** The session can take more of the response ({@link DownstreamSession#canTakeMore()} is true again). */
    void onWritable();

    /** The client went away: the connection closed, or the stream was reset. */
    void onClosed();
}
