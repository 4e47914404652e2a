package io.h3relay.listener.h3;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.quic.QuicStreamChannel;
import java.lang.reflect.Method;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a request stream once the client has stopped it (STOP_SENDING, e.g. a cancelled fetch), so the
 * proxy cancels the upstream attempt as it does on an h2 RST_STREAM.
 *
 * <p>Netty 4.2.18 does not report that by itself. quiche answers STOP_SENDING with a RESET_STREAM; a request
 * stream whose request was read to the end is then complete and quiche forgets it. From then on a write to
 * it gets quiche's "done" (the same answer as "no flow-control credit"): Netty queues the write, marks the
 * stream unwritable and never completes the write, and no event follows. Only a write that finds the stream
 * stopped but not yet forgotten fails (and ends the exchange through {@code exceptionCaught}).
 *
 * <p>Two cases, told apart on writability changes ({@link Http3RequestStreamGuard} passes them here; nothing per
 * write):
 * <ul>
 * <li>The stream turns unwritable while {@link QuicStreamChannel#bytesBeforeUnwritable()} is still positive:
 *     when flow control blocks a write, Netty has just read the stream's capacity as 0; for a stream quiche
 *     no longer knows, that read fails and the last positive capacity stays. Such a stream is gone.</li>
 * <li>The stream turned unwritable with no capacity (a client that stopped reading: flow control) and the
 *     client gives up while it stays so, the common end of an abandoned download. No write and no event
 *     comes then (Netty drops quiche's "stream stopped" report when it has nothing queued, and a forgotten
 *     stream reports nothing), so the response stayed paused and its upstream connection open, unread, for
 *     good: one per abandoned h3 download ({@code SoakTest}'s descriptor growth, docs/security.md). While it
 *     is unwritable the stream is looked at every {@value #POLL_MILLIS} ms: quiche's capacity of a stream it
 *     still flow-controls is 0 or more, and an error once the stream was stopped or forgotten.</li>
 * </ul>
 * quiche's stream capacity is not public in Netty 4.2.18 ({@code QuicheQuicChannel.streamCapacity}): it is
 * read reflectively; when that is not possible (Netty's internals changed) the second case is not detected,
 * with one warning, and such an exchange lasts until its QUIC connection closes.
 */
final class Http3StreamStopDetector {
    private static final Logger LOG = LoggerFactory.getLogger(Http3StreamStopDetector.class);
    static final long POLL_MILLIS = 250;
    private static final Method STREAM_CAPACITY = streamCapacityMethod();

    private ScheduledFuture<?> poll;

    /**
     * The stream of {@code ctx} changed writability: returns true when that showed it stopped (and it was closed;
     * the event goes no further), false when the event goes on.
     */
    boolean writabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel() instanceof QuicStreamChannel stream && !stream.isWritable() && stream.isActive()) {
            if (stream.bytesBeforeUnwritable() > 0) {
                LOG.debug("h3 stream {} was stopped by the client; closing it", stream);
                stream.close();
                return true;
            }
            schedulePoll(ctx);
        }
        return false;
    }

    /** The stream closed. */
    void cancel() {
        if (poll != null) {
            poll.cancel(false);
            poll = null;
        }
    }

    private void schedulePoll(ChannelHandlerContext ctx) {
        if (poll == null && STREAM_CAPACITY != null) {
            poll = ctx.executor().schedule(() -> poll(ctx), POLL_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    private void poll(ChannelHandlerContext ctx) {
        poll = null;
        QuicStreamChannel stream = (QuicStreamChannel) ctx.channel();
        if (!stream.isActive() || stream.isWritable()) {
            return; // closed, or credit came: Netty reports the next stall as a writability change
        }
        if (stopped(stream)) {
            LOG.debug("h3 stream {} was stopped by the client while flow control held it; closing it", stream);
            stream.close();
            return;
        }
        schedulePoll(ctx);
    }

    /** quiche's capacity of the stream is an error: the client stopped it, or it is complete and forgotten. */
    static boolean stopped(QuicStreamChannel stream) {
        Channel parent = stream.parent();
        if (STREAM_CAPACITY == null || parent == null || !STREAM_CAPACITY.getDeclaringClass().isInstance(parent)) {
            return false;
        }
        try {
            return (long) STREAM_CAPACITY.invoke(parent, stream.streamId()) < 0;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("cannot read the capacity of h3 stream {}", stream, e);
            return false;
        }
    }

    private static Method streamCapacityMethod() {
        try {
            Class<?> channel = Class.forName("io.netty.handler.codec.quic.QuicheQuicChannel", true,
                    QuicStreamChannel.class.getClassLoader());
            Method m = channel.getDeclaredMethod("streamCapacity", long.class);
            m.setAccessible(true);
            return m;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("cannot read quiche's stream capacity (Netty's QUIC internals differ: {}); an h3 download "
                    + "the client abandons while flow control holds it ends only with its connection", e.toString());
            return null;
        }
    }
}
