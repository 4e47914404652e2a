package io.h3relay.quic;

import io.netty.channel.Channel;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One quiche send and one socket flush per QUIC connection and event-loop turn, for what its streams write
 * outside the connection's own reads.
 *
 * <p>Why: Netty 4.2.18's QUIC stream hands every write to quiche at once and then makes quiche build its packets
 * and flushes the UDP socket ({@code QuicheQuicChannel.connectionSendAndFlush}), unless the connection is in its
 * read loop (then that waits for the end of the read). Responses come from the endpoints' connections, so each
 * response of a connection was its own QUIC packet and its own {@code sendto}, even when ten responses to the
 * same client became ready in the same turn. Netty does the batching for reads with a flag of the connection
 * ("in the read-complete queue": sends wait) and a method that ends it (send, flush, clear the flag); both are
 * package-private, reached here through method handles. A stream about to write calls {@link #defer}: the first
 * one in a turn sets the flag and queues the end in a task after the turn's reads, so quiche's send loop runs once
 * for the turn's writes and the UDP socket is flushed once: their datagrams leave in one {@code sendmmsg} instead
 * of a {@code sendto} each ({@code QuicSendBatchTest}; quiche still gives each stream's data a packet of its
 * own in that loop).
 *
 * <p>When the connection is already in its read loop, the flag is set already and Netty's read complete sends
 * (nothing is queued here). When Netty's internals differ (the methods are not found), nothing is deferred and
 * every write sends at once, as before, with one warning.
 */
public final class QuicSendBatch {
    private static final Logger LOG = LoggerFactory.getLogger(QuicSendBatch.class);
    private static final String CHANNEL_CLASS = "io.netty.handler.codec.quic.QuicheQuicChannel";
    private static final Class<?> CHANNEL;
    /** {@code boolean markInFireChannelReadCompleteQueue()}: true when this call set the flag. */
    private static final MethodHandle MARK;
    /** {@code void recvComplete()}: read complete if one is due, quiche's send, the socket's flush, flag cleared. */
    private static final MethodHandle COMPLETE;

    static {
        Class<?> channel = null;
        MethodHandle mark = null;
        MethodHandle complete = null;
        try {
            channel = Class.forName(CHANNEL_CLASS, true, Channel.class.getClassLoader());
            Method m = channel.getDeclaredMethod("markInFireChannelReadCompleteQueue");
            Method c = channel.getDeclaredMethod("recvComplete");
            if (m.getReturnType() != boolean.class) {
                throw new NoSuchMethodException("markInFireChannelReadCompleteQueue returns " + m.getReturnType());
            }
            m.setAccessible(true);
            c.setAccessible(true);
            mark = MethodHandles.lookup().unreflect(m);
            complete = MethodHandles.lookup().unreflect(c);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.warn("Netty's QUIC connection cannot batch stream writes here (its internals differ: {}); every "
                    + "HTTP/3 response write is sent, and the UDP socket flushed, on its own", e.toString());
            channel = null;
            mark = null;
            complete = null;
        }
        CHANNEL = channel;
        MARK = mark;
        COMPLETE = complete;
    }

    private QuicSendBatch() {
    }

    /** True when writes can be deferred (Netty's QUIC internals were found). */
    public static boolean available() {
        return MARK != null;
    }

    /**
     * Holds the sends of {@code connection} (a QUIC connection channel) until the end of the current event-loop
     * turn. Call on the connection's event loop, before writing to one of its streams.
     */
    public static void defer(Channel connection) {
        if (MARK == null || connection == null || !CHANNEL.isInstance(connection)) {
            return;
        }
        boolean marked;
        try {
            marked = (boolean) MARK.invoke(connection);
        } catch (Throwable e) {
            LOG.debug("cannot defer the sends of QUIC connection {}", connection, e);
            return;
        }
        if (!marked) {
            return; // in its read loop, or deferred already in this turn: a send is on its way
        }
        try {
            connection.eventLoop().execute(() -> complete(connection));
        } catch (RejectedExecutionException e) {
            complete(connection); // the event loop is shutting down: send now, as without deferral
        }
    }

    private static void complete(Channel connection) {
        try {
            COMPLETE.invoke(connection);
        } catch (Throwable e) {
            LOG.warn("QUIC connection {}: sending its deferred stream writes failed", connection, e);
        }
    }
}
