package io.h3relay.listener.h3;

import io.netty.channel.ChannelHandlerContext;

/**
 * What both kinds of request-stream handler keep an eye on ({@link Http3RequestStream}, h3relay's own, and
 * {@link Http3RequestStreamGuard}, behind Netty's codec): the head timeout ({@link Http3HeadTimeout}, until the
 * first whole HEADERS frame), a stream the client stopped ({@link Http3StreamStopDetector}), and whether the
 * client's FIN was read, so a stream that closes before it is reported to the connection's guard
 * ({@link Http3ConnectionGuard#streamClosedBeforeFin}). Confined to the stream's event loop.
 */
final class Http3StreamWatch {
    private final long headTimeoutNanos;
    private final Http3ConnectionGuard connection;
    private final Http3StreamStopDetector stops = new Http3StreamStopDetector();
    /** Until the first HEADERS frame, or the stream's end. */
    private Http3HeadTimeout headTimeout;
    /** The client's FIN was read: Netty lets go of the stream when it closes. */
    private boolean finRead;

    Http3StreamWatch(long headTimeoutNanos, Http3ConnectionGuard connection) {
        this.headTimeoutNanos = headTimeoutNanos;
        this.connection = connection;
    }

    /** The handler was added to the stream of {@code ctx}: the head timeout's deadline starts. */
    void added(ChannelHandlerContext ctx) {
        headTimeout = new Http3HeadTimeout(ctx, headTimeoutNanos);
    }

    /** A read ended: without a whole HEADERS frame so far, the head timeout's clock runs. */
    void readComplete() {
        if (headTimeout != null) {
            headTimeout.start();
        }
    }

    /** The HEADERS frame came (or the stream is being answered or closed otherwise): no head timeout. */
    void headDone() {
        if (headTimeout != null) {
            headTimeout.cancel();
            headTimeout = null;
        }
    }

    /** The client's FIN was read. */
    void finRead() {
        finRead = true;
    }

    /**
     * The client's input ended: before a whole HEADERS frame, the request can never complete and the stream is
     * reset now (H3_REQUEST_INCOMPLETE), not when the timer fires.
     */
    void inputEnded() {
        Http3HeadTimeout timeout = headTimeout;
        headTimeout = null;
        if (timeout != null) {
            timeout.expireNow();
        }
    }

    /** The stream changed writability: true when that showed the client stopped it (and it was closed). */
    boolean writabilityChanged(ChannelHandlerContext ctx) {
        return stops.writabilityChanged(ctx);
    }

    /** The stream closed. */
    void inactive() {
        removed();
        if (!finRead) {
            connection.streamClosedBeforeFin();
        }
    }

    /** The handler was removed: its timers go. */
    void removed() {
        headDone();
        stops.cancel();
    }
}
