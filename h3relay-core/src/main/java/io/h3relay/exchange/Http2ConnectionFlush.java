package io.h3relay.exchange;

import io.netty.channel.Channel;

import java.util.concurrent.RejectedExecutionException;

/**
 * One flush of an h2 connection for what all its streams wrote in an event-loop turn. A stream's
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
    private final Channel connection;
    private boolean scheduled;

    /** The flush of {@code connection}: one per h2 connection, kept by its {@link Http2Streams}. */
    Http2ConnectionFlush(Channel connection) {
        this.connection = connection;
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
