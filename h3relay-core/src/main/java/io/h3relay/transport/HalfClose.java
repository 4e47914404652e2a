package io.h3relay.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.channel.socket.DuplexChannel;

/**
 * Ending our side of a TCP connection (FIN) after the bytes written before it. {@code shutdownOutput()} is a
 * {@code shutdown(2)} at once: on io_uring the sends of the same event-loop turn are still in the ring (they reach
 * the kernel at the end of the turn), and on epoll bytes the socket did not take yet still wait in the outbound
 * buffer; either way they would be lost (EPIPE) behind the FIN. An empty write after them completes when they
 * have gone, in order, and the half-close follows it.
 */
public final class HalfClose {
    private HalfClose() {
    }

    /**
     * Flushes through {@code via} (the pipeline, or a handler's context, so the empty write passes the same
     * handlers as the bytes before it) and half-closes {@code channel} once everything written before has gone to
     * the socket. The future completes with the half-close (or with the write's failure).
     */
    public static ChannelFuture afterWrites(ChannelOutboundInvoker via, DuplexChannel channel) {
        ChannelFuture written = via.writeAndFlush(Unpooled.EMPTY_BUFFER);
        if (written.isDone() && written.isSuccess()) {
            return channel.shutdownOutput();
        }
        io.netty.channel.ChannelPromise done = channel.newPromise();
        written.addListener(f -> {
            if (f.isSuccess()) {
                channel.shutdownOutput(done);
            } else {
                done.tryFailure(f.cause());
            }
        });
        return done;
    }
}
