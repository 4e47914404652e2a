package io.h3relay.upstream;

import io.h3relay.endpoint.Endpoint;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;

/**
 * One request and its response towards one endpoint, as the forwarding sees it, whatever the protocol: an
 * HTTP/1.1 connection leased for one exchange, or (later) one stream of a multiplexed h2/h3 connection.
 * Framing is the stream's business ({@code Transfer-Encoding}, {@code TE}, keep-alive, the end of a body):
 * callers hand it protocol-neutral {@code HttpObject}s and get the same back.
 *
 * <p>Threading: handed out on the exchange's event loop, which is the stream's loop; every call, and every
 * {@link Listener} callback, happens on it.
 *
 * <pre>
 *   start(listener) ─► writeHead ─► writeBody* (last one a LastHttpContent) ─► ... ─► finish | abort
 *   listener:          onResponse (head, body parts, last) / onReadComplete / onWritabilityChanged / onFailed
 * </pre>
 */
public interface UpstreamStream {

    Endpoint endpoint();

    UpstreamProtocol protocol();

    /** Binds the receiver of the endpoint's response; once, before the first write. */
    void start(Listener listener);

    /**
     * Writes the request head (not flushed). {@code hasBody}: body parts follow; without a
     * {@code Content-Length} the stream frames them itself (h1: chunked).
     */
    void writeHead(HttpRequest head, boolean hasBody);

    /** Writes a body part (not flushed); a {@link io.netty.handler.codec.http.LastHttpContent} ends the request. */
    void writeBody(HttpContent content);

    /**
     * Tunnel bytes for the endpoint (after the 101 / the 2xx to an extended CONNECT), without an end: h1
     * writes them as they are; the default wraps them as a body part (h2: a DATA frame).
     */
    default void writeTunnelBytes(ByteBuf bytes) {
        writeBody(new DefaultHttpContent(bytes));
    }

    void flush();

    /** False while the stream's send buffer is above its high water mark: stop reading the request body. */
    boolean isWritable();

    /** Backpressure from downstream: stop or resume reading the response. */
    void readResponse(boolean on);

    /** True when the stream's connection carried earlier requests: an endpoint's close may race ours. */
    boolean isReused();

    /** The version the response arrived with, as {@code Via} names it ({@code 1.1}, {@code 2}, {@code 3}). */
    String viaVersion();

    /**
     * The exchange is done with the stream. {@code clean}: request and response both ended as their framing
     * says; the stream decides whether its connection can serve another request (keep-alive, limits).
     */
    void finish(boolean clean);

    /** Cancels the stream (h1: closes the connection; h2/h3: resets the stream). {@code reason} is logged. */
    void abort(String reason);

    /**
     * After a {@code 101} or a 2xx to CONNECT: the protocol's framing ends and the stream carries opaque bytes
     * both ways, as {@link HttpContent} parts; the endpoint's end of input arrives as a
     * {@link io.netty.handler.codec.http.LastHttpContent}, and writing one ends ours.
     */
    void enterTunnel();

    /** What the endpoint sends, and what happens to the stream. */
    interface Listener {
        /** A response head, a body part, or the last part (with trailers); the listener owns {@code msg}. */
        void onResponse(HttpObject msg);

        /**
         * Tunnel bytes from the endpoint (h1: the raw TCP stream after the 101), not the end of it; the
         * listener owns {@code bytes}. The default wraps them as a body part.
         */
        default void onTunnelBytes(ByteBuf bytes) {
            onResponse(new DefaultHttpContent(bytes));
        }

        /** A read burst ended: flush downstream, and keep reading only if downstream can take more. */
        void onReadComplete();

        /** The send buffer crossed a water mark. */
        void onWritabilityChanged(boolean writable);

        /** The stream failed before its response completed; nothing more arrives. */
        void onFailed(UpstreamFailure failure);
    }
}
