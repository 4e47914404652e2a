package io.h3relay.client;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

/**
 * One open connection of any protocol. All methods but {@link #close()} and {@link #info()} must be
 * called on {@link #eventLoop()}. {@link #send} writes without flushing, so that requests issued in one
 * event-loop turn leave in one write: call {@link #flush()} after a batch.
 */
public interface ClientConnection {

    Protocol protocol();

    ConnectionInfo info();

    EventLoop eventLoop();

    /** Open and accepting new requests (false after a GOAWAY, a close, or h1's Connection: close). */
    boolean isUsable();

    /** How many requests may be in flight at once: 1 on h1, the peer's stream limit on h2/h3. */
    int maxConcurrent();

    int inFlight();

    Cancellable send(RequestSpec request, ResponseListener listener);

    void flush();

    /** Completes when the connection has closed. */
    Future<?> closeFuture();

    void close();
}
