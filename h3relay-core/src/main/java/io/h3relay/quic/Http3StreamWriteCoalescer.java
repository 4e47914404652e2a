package io.h3relay.quic;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.quic.DefaultQuicStreamFrame;
import io.netty.handler.codec.quic.QuicStreamChannel;

import java.util.ArrayList;
import java.util.List;

/**
 * First in an h3 request stream's pipeline (next to the QUIC stream itself), or part of the handler that is
 * (the listener's own request-stream codec calls its {@code write}, {@code flush}, {@code close} and
 * {@code handlerAdded}/{@code handlerRemoved} with its own context): holds the encoded frames written between two
 * flushes and hands them to the stream as one buffer, with the stream's FIN when the response ended
 * ({@link #endStreamWith}).
 *
 * <p>Why: Netty 4.2.18's QUIC stream makes quiche build and send packets after every buffer it is given
 * ({@code connectionSendAndFlush} per write), unless the connection is being read at that moment, which it
 * is not when a response comes from an endpoint. A small response was therefore three UDP datagrams, each
 * sealed on its own: the HEADERS frame, the DATA frame, and the FIN (sent by a separate
 * {@code shutdownOutput()} once the last write completed). Coalesced, it is one.
 *
 * <p>And the FIN must ride on bytes: given to quiche alone, after the bytes before it were sent, it is a STREAM
 * frame without bytes, which quiche (Netty 4.2.18's) never sends again when its packet is lost once those bytes
 * are acknowledged; the peer then waits for the end of the stream until a timeout (docs/protocols.md, "The FIN
 * rides on bytes"). Used by the listener's request streams (responses) and the upstream HTTP/3 streams
 * (requests) alike.
 *
 * <p>The FIN rides with the data only when the last write ({@code endStreamWith}'s promise) reached this
 * handler before the flush; when Netty's HTTP/3 codec holds writes back (QPACK's encoder stream not open
 * yet), the stream is shut down once that write completes, as Netty's own codec does (a FIN on its own then,
 * possible only with QPACK's dynamic table on, which is off by default, and only in a connection's first moments).
 * Confined to the stream's event loop.
 */
public final class Http3StreamWriteCoalescer extends ChannelOutboundHandlerAdapter {
    /** Buffers up to this size are copied into one; larger ones are kept as components (no copy). */
    private static final int COPY_LIMIT = 2048;
    private static final int COPY_CAPACITY = 16 * 1024;

    private ByteBuf pending;
    private boolean pendingIsCopy;
    /** The non-void promises of the pending writes. */
    private final List<ChannelPromise> promises = new ArrayList<>(2);
    private ChannelPromise finPromise;
    private ChannelHandlerContext ctx;
    private final boolean batchSends;

    /**
     * {@code batchSends}: the connection's packets are built once per event-loop turn for all its streams
     * ({@link QuicSendBatch}), not after each stream's flush. Not with QPACK's dynamic table on: the encoder
     * stream's instructions then leave in the same packets as the HEADERS that refer to them, quiche may put the
     * request stream's frame first, and nghttp3 failed to decode such responses (QPACK_DECOMPRESSION_FAILED,
     * {@code it/Http3QpackTest}); sent at once, the instructions go out first, in their own packet.
     */
    public Http3StreamWriteCoalescer(boolean batchSends) {
        this.batchSends = batchSends;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public boolean isSharable() {
        return false; // without asking Netty's per-thread cache, once per stream
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf buf)) {
            writePending(ctx, false);
            ctx.write(msg, promise);
            return;
        }
        pend(ctx, buf, promise, false);
    }

    /**
     * As {@link #write}, for a buffer the caller allocated for this stream alone (a frame it just encoded: no view,
     * no other holder): when nothing is pending it becomes the buffer later small writes are copied into, instead
     * of being copied into a new one.
     */
    public void writeOwned(ChannelHandlerContext ctx, ByteBuf buf, ChannelPromise promise) {
        pend(ctx, buf, promise, true);
    }

    private void pend(ChannelHandlerContext ctx, ByteBuf buf, ChannelPromise promise, boolean owned) {
        append(ctx, buf, owned);
        if (!promise.isVoid()) {
            promises.add(promise);
        }
    }

    private void append(ChannelHandlerContext ctx, ByteBuf buf, boolean owned) {
        int size = buf.readableBytes();
        if (pending == null) {
            if (owned && size <= COPY_LIMIT) {
                pending = buf;
                pendingIsCopy = true;
            } else if (size <= COPY_LIMIT) {
                pending = ctx.alloc().directBuffer(Math.max(256, Math.min(COPY_CAPACITY, size * 4)), COPY_CAPACITY);
                pending.writeBytes(buf);
                buf.release();
                pendingIsCopy = true;
            } else {
                pending = buf;
                pendingIsCopy = false;
            }
            return;
        }
        if (pendingIsCopy && size <= COPY_LIMIT && pending.readableBytes() + size <= COPY_CAPACITY
                && pending.maxWritableBytes() >= size) {
            pending.writeBytes(buf);
            buf.release();
            return;
        }
        CompositeByteBuf composite;
        if (pending instanceof CompositeByteBuf c && !pendingIsCopy) {
            composite = c;
        } else {
            composite = ctx.alloc().compositeDirectBuffer(16);
            composite.addComponent(true, pending);
            pending = composite;
            pendingIsCopy = false;
        }
        composite.addComponent(true, buf);
    }

    /**
     * The response ended with the write whose promise is {@code last} (already written): the next flush sends
     * the stream's FIN with the pending data, or, when that write has not reached this handler yet, the stream
     * is shut down once it completes.
     */
    public void endStreamWith(ChannelPromise last) {
        finPromise = last;
    }

    /**
     * The response ended with what is pending here (an empty last part: no DATA frame for it): the next flush
     * sends the FIN with those bytes. Returns null when nothing is pending (nothing written yet, or Netty's
     * codec holds the writes back): the caller then ends the stream as usual.
     */
    public ChannelFuture endStreamWithPending() {
        if (pending == null || ctx == null) {
            return null;
        }
        ChannelPromise p = ctx.newPromise();
        promises.add(p);
        finPromise = p;
        return p;
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (batchSends) {
            // quiche's packets of this turn's stream writes on the connection are built and sent once, after it
            QuicSendBatch.defer(ctx.channel().parent());
        }
        writePending(ctx, true);
        ctx.flush();
    }

    private void writePending(ChannelHandlerContext ctx, boolean flushing) {
        ChannelPromise fin = finPromise;
        boolean withFin = false;
        if (fin != null && flushing) {
            finPromise = null;
            if (promises.contains(fin)) {
                withFin = true;
            } else {
                fin.addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
            }
        }
        if (pending == null && !withFin) {
            return;
        }
        ByteBuf data = pending != null ? pending : Unpooled.EMPTY_BUFFER;
        pending = null;
        Object msg = withFin ? new DefaultQuicStreamFrame(data, true) : data;
        ChannelPromise promise;
        switch (promises.size()) {
            case 0 -> promise = ctx.voidPromise();
            case 1 -> promise = promises.get(0);
            default -> {
                ChannelPromise[] all = promises.toArray(new ChannelPromise[0]);
                promise = ctx.newPromise();
                promise.addListener((ChannelFutureListener) f -> {
                    for (ChannelPromise p : all) {
                        if (f.isSuccess()) {
                            p.trySuccess();
                        } else {
                            p.tryFailure(f.cause());
                        }
                    }
                });
            }
        }
        promises.clear();
        ctx.write(msg, promise);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        discard();
        ctx.close(promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        this.ctx = null;
        discard();
    }

    /**
     * Drops what waits and fails the waiting writes' promises. The exception is made only when a promise waits:
     * every stream's pipeline is torn down through here, and filling in a stack trace per stream was 1.7% of
     * the proxy's CPU under small h3 requests (async-profiler, 2026-12-07).
     */
    private void discard() {
        finPromise = null;
        if (pending != null) {
            pending.release();
            pending = null;
        }
        if (!promises.isEmpty()) {
            java.nio.channels.ClosedChannelException cause = new java.nio.channels.ClosedChannelException();
            for (ChannelPromise p : promises) {
                p.tryFailure(cause);
            }
            promises.clear();
        }
    }
}
