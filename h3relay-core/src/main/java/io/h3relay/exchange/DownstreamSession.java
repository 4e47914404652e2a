package io.h3relay.exchange;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.EventExecutor;

import java.net.InetAddress;

/**
 * The downstream end of one exchange, whatever the protocol: an HTTP/1.x connection serving its requests one
 * after another ({@link Http1Session}), an h2 stream ({@link Http2StreamSession}) or an h3 stream
 * ({@link Http3StreamSession}). A session owns its protocol's framing and connection management:
 * {@code Connection}/keep-alive, chunked or close-delimited bodies, pipelining and lingering close on h1;
 * RST_STREAM on h2; STOP_SENDING/RESET_STREAM and QUIC's writability quirks on h3. The exchange above it
 * hands it protocol-neutral {@code HttpObject}s and says what happened (finished, aborted, must close);
 * the session decides what that means on the wire.
 *
 * <p>It feeds its {@link DownstreamExchange} the request (head, body parts, end) and the channel's events.
 * Threading: everything on the channel's event loop.
 */
public interface DownstreamSession {
    /** Fired on every connection when the server starts draining (user event). */
    Object DRAIN_EVENT = new Object() {
        @Override
        public String toString() {
            return "DRAIN_EVENT";
        }
    };

    /** The protocol of the current request (h1: its version). */
    DownstreamProtocol protocol();

    /**
     * The downstream channel: an h1 connection, an h2 stream's connection (h2 streams are not channels), or an h3
     * stream (for observers: addresses, QUIC ids).
     */
    Channel channel();

    ByteBufAllocator alloc();

    EventExecutor executor();

    /** The client's address, captured by the caller once (a QUIC connection forgets it when it closes). */
    InetAddress clientAddress();

    /** The listener is draining: new requests get 503, responses close their h1 connection. */
    boolean isDraining();

    /** Whether the server is ready (builtin readyz); not while a drain was asked for or runs. */
    default boolean isReady() {
        return !isDraining();
    }

    /** {@code Retry-After} of a 503 refused because of the drain. */
    long retryAfterSeconds();

    /**
     * Whether body parts follow {@code head} (then a {@code LastHttpContent} ends them): the protocol's framing
     * says (h1: chunked or a Content-Length above 0; h2/h3: no END_STREAM with the head).
     * {@code declaredLength}: the Content-Length as the exchange parsed it, -1 without one.
     */
    boolean bodyFollows(io.netty.handler.codec.http.HttpRequest head, long declaredLength);

    /** Writes (not flushes) a streamed response head; the session adds framing and connection headers. */
    void writeHead(HttpResponse head);

    /** Writes and flushes an interim response ({@code 100 Continue}). */
    void writeInterim(HttpResponse interim);

    /** Writes (not flushes) a response body part. */
    void writeBody(HttpContent content);

    /**
     * Tunnel bytes for the client (a WebSocket's, after the 101 or the 2xx to an extended CONNECT), without
     * an end: h1 writes them as they are; the default wraps them as a body part (h2/h3: a DATA frame).
     */
    default void writeTunnelBytes(ByteBuf bytes) {
        writeBody(new DefaultHttpContent(bytes));
    }

    /** Writes and flushes the response's end (with trailers): the response is complete. */
    void writeLast(LastHttpContent last);

    /** Writes and flushes a whole response made by the proxy (framing added as for {@link #writeHead}). */
    void writeResponse(FullHttpResponse response);

    void flush();

    /** Whether a write now would leave the channel writable: when false, wait for {@link DownstreamExchange#onWritable}. */
    boolean canTakeMore();

    /** Backpressure towards the client: read the request (body) or stop. */
    void readRequest(boolean on);

    /** After this response, the connection must not carry another exchange (h1: Connection: close). */
    void closeAfterResponse();

    /**
     * Whether the connection (h1) or stream ends with this response: asked for, or the session's own decision
     * (h1: the client's Connection: close, HTTP/1.0 without a length, the drain).
     */
    boolean closesAfterResponse();

    /**
     * The exchange is over: its response was written whole (or nothing more will be). {@code requestComplete}
     * says whether the request arrived to its end; if not, the session stops the upload without losing the
     * response (h1: lingering close; h2/h3: reset/STOP_SENDING with NO_ERROR after the response went out).
     */
    void exchangeFinished(boolean requestComplete);

    /** Cut the exchange: h1 closes the connection, h2/h3 reset the stream (the client must not take a partial
     * response as complete). */
    void abort();

    /**
     * A request was refused because the server drains, on a connection that may not know yet: h2 and h3
     * send GOAWAY now (h1 said Connection: close).
     */
    void connectionDraining();

    /**
     * The response was a {@code 101} (or a 2xx to CONNECT): the protocol's framing ends, bytes flow both ways
     * as {@link HttpContent} parts until either side ends ({@link LastHttpContent}).
     */
    void enterTunnel();
}
