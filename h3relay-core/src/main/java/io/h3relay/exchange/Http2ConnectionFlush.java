package io.h3relay.exchange;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

import java.util.concurrent.RejectedExecutionException;

/**
 * One flush of an h2 connection for what all its streams wrote in an event-loop turn. A stream channel's
 * flush outside the connection's own read goes down the connection's pipeline at once: the frame codec,
 * its flow controller's {@code writePendingBytes} (where a response's DATA waits), the flush consolidation
 * below it. Responses come from the upstream channels' reads, many in one turn for the same downstream
 * connection, so that walk was made once per stream. A stream asks for the flush here instead, and the
 * connection is flushed once, in a task after the turn's reads (the consolidation handler below merges the
 * socket writes in any case: this saves the walks, not syscalls).
 *
 * <p>Loop-confined: made, asked and run on the connection's event loop (its streams share it).
 */
final class Http2ConnectionFlush implements Runnable {
    private static final AttributeKey<Http2ConnectionFlush> KEY =
            AttributeKey.valueOf(Http2ConnectionFlush.class, "flush");

    private final Channel connection;
    private boolean scheduled;

    private Http2ConnectionFlush(Channel connection) {
        this.connection = connection;
    }

    /** The flush of {@code connection} (an h2 stream's parent), made on first use. */
    static Http2ConnectionFlush of(Channel connection) {
        var attr = connection.attr(KEY);
        Http2ConnectionFlush f = attr.get();
        if (f == null) {
            f = new Http2ConnectionFlush(connection);
            attr.set(f);
        }
        return f;
    }

    /** The connection is flushed once the current task is done (once however many streams ask meanwhile). */
    void request() {
        if (!scheduled) {
            scheduled = true;
            try {
                connection.eventLoop().execute(this);
            } catch (RejectedExecutionException e) {
                run(); // the event loop is shutting down: flush now, as a stream did before
            }
        }
    }

    @Override
    public void run() {
        scheduled = false;
        connection.flush();
    }
}
