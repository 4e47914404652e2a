package io.h3relay.exchange;

import io.h3relay.quic.Http3StreamWriteCoalescer;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.quic.QuicStreamChannel;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One h3 request stream. Stops uploads with STOP_SENDING, cuts streams with RESET_STREAM + STOP_SENDING,
 * and works around a Netty 4.2.18 QUIC quirk: a stream may report writable with no capacity yet
 * (netty#17429), so writability is confirmed with {@link QuicStreamChannel#bytesBeforeUnwritable()} and,
 * when it is not there yet, looked at again shortly (no event need follow) instead of resuming reads that
 * would pile up in the stream's queue.
 */
public final class Http3StreamSession extends StreamSession {
    private static final long TUNNEL_PROBE_MILLIS = 1_000;
    private static final long FIRST_RECHECK_MICROS = 1_000;
    private static final long LAST_RECHECK_MICROS = 64_000;
    private boolean recheckScheduled;
    private final Http3StreamWriteCoalescer coalescer;
    /** Called with the stream's pipeline when the rest of the request is stopped ({@link #stopUnfinishedRequest}). */
    private final Consumer<ChannelPipeline> onRequestStopped;
    private long recheckDelayMicros = FIRST_RECHECK_MICROS;
    /** A request head held until the next message shows whether a body follows (see {@link #channelRead}). */
    private HttpRequest heldHead;

    /**
     * {@code coalescer}: the stream's write coalescer (null: none); {@code onRequestStopped}: told the stream's
     * pipeline when a request answered before its body ended is stopped (the listener keeps what is left of it
     * from resetting the stream).
     */
    public Http3StreamSession(ListenerState listener, ExchangeStarter starter, long retryAfterSeconds,
                              Http3StreamWriteCoalescer coalescer, Consumer<ChannelPipeline> onRequestStopped) {
        super(listener, starter, retryAfterSeconds);
        this.coalescer = coalescer;
        this.onRequestStopped = onRequestStopped;
    }

    /**
     * The end of a response goes out with its FIN riding on its last bytes, which the coalescer sends together
     * (one datagram for a small response): the last DATA frame, the trailers, or, for an empty end, what is pending
     * (the head, the last body part) or an empty DATA frame when nothing is. Not a separate {@code shutdownOutput()}
     * after the write, as Netty's codec does: once the bytes before it have left, a FIN sent alone is a STREAM frame
     * without bytes, which quiche never sends again when its packet is lost (see {@link Http3StreamWriteCoalescer}).
     */
    @Override
    public void writeLast(LastHttpContent last) {
        if (coalescer == null) {
            super.writeLast(last);
            return;
        }
        ChannelPromise p = ctx.newPromise();
        if (!last.trailingHeaders().isEmpty()) {
            if (last.content().isReadable()) {
                ctx.write(new DefaultHttpContent(last.content()), ctx.voidPromise());
            } else {
                last.release();
            }
            // Netty's codec: one HEADERS frame written with p (then its own shutdownOutput() finds the FIN sent)
            ctx.write(new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, last.trailingHeaders()), p);
        } else if (!last.content().isReadable() && coalescer.endStreamWithPending() instanceof ChannelFuture end) {
            last.release();
            ctx.flush();
            lastWrite = end;
            return;
        } else {
            ctx.write(new DefaultHttpContent(last.content()), p); // (empty: Netty's codec writes an empty DATA frame)
        }
        coalescer.endStreamWith(p);
        ctx.flush();
        lastWrite = p;
    }

    /** A whole response: its head, then its end as {@link #writeLast} sends it. */
    @Override
    public void writeResponse(FullHttpResponse response) {
        if (coalescer == null || response.status().code() < 200) {
            super.writeResponse(response);
            return;
        }
        frameHead(response, true);
        ctx.write(new DefaultHttpResponse(response.protocolVersion(), response.status(), response.headers()),
                ctx.voidPromise());
        writeLast(new DefaultLastHttpContent(response.content(), response.trailingHeaders()));
    }

    /**
     * Netty's HTTP/3 adapter emits a request head before it knows whether a body follows (the FIN may come in a
     * later packet), and marks every head without Content-Length as chunked. The head is held until the next
     * message: a bare end of stream turns it into a bodiless request, as h1 and h2 present it, so a GET is not
     * forwarded upstream as a chunked request with an empty body. An extended CONNECT (RFC 9220) keeps its stream
     * open and waits for the answer: it is never held.
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest req && !(msg instanceof LastHttpContent)) {
            if (HttpMethod.CONNECT.equals(req.method())) {
                req.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
                super.channelRead(ctx, req);
            } else {
                heldHead = req;
            }
            return;
        }
        HttpRequest head = heldHead;
        if (head != null) {
            heldHead = null;
            if (msg instanceof LastHttpContent last && !last.content().isReadable()
                    && last.trailingHeaders().isEmpty()) {
                last.release();
                head.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
                super.channelRead(ctx, new DefaultFullHttpRequest(head.protocolVersion(), head.method(), head.uri(),
                        Unpooled.EMPTY_BUFFER, head.headers(), EmptyHttpHeaders.INSTANCE));
                return;
            }
            super.channelRead(ctx, head);
        }
        super.channelRead(ctx, msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (heldHead != null && !ctx.channel().config().isAutoRead()) {
            ctx.read(); // a head is held: the exchange cannot ask for more until it sees it
        }
        super.channelReadComplete(ctx);
    }

    @Override
    public boolean isSharable() {
        return false; // without asking Netty's per-thread cache, once per stream
    }

    @Override
    public DownstreamProtocol protocol() {
        return DownstreamProtocol.H3;
    }

    @Override
    boolean isStreamReset(Object msg) {
        return false; // a reset h3 stream shows as an input error and a close (see Http3StreamStopDetector)
    }

    /**
     * Writable and with stream capacity. A stream that reports writable without capacity (netty#17429: draining
     * Netty's queue of a stream marks it writable even when the drain used up the capacity) may never fire
     * another writability change: when quiche grants credit again the stream is already "writable". So that
     * state is polled (see {@link #recheck}) until capacity shows, the stream turns unwritable (an event
     * follows then) or the exchange ends; without it, a response paused here waited forever (issue 19's h3
     * stall: about 1 in 5,000-25,000 64 KiB responses at 50 in flight).
     */
    @Override
    public boolean canTakeMore() {
        if (!ctx.channel().isWritable()) {
            return false; // Netty fires channelWritabilityChanged when it turns writable
        }
        if (ctx.channel().bytesBeforeUnwritable() > 0) {
            recheckDelayMicros = FIRST_RECHECK_MICROS;
            return true;
        }
        scheduleRecheck();
        return false;
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (current != null && canTakeMore()) {
            current.onWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    private void scheduleRecheck() {
        if (recheckScheduled || current == null) {
            return;
        }
        recheckScheduled = true;
        long delay = recheckDelayMicros;
        // 1 ms, doubling up to 64 ms: quick for the common short wait, cheap for a client that stopped reading
        recheckDelayMicros = Math.min(delay * 2, LAST_RECHECK_MICROS);
        ctx.executor().schedule(this::recheck, delay, TimeUnit.MICROSECONDS);
    }

    private void recheck() {
        recheckScheduled = false;
        if (current != null && !closing && ctx.channel().isActive() && canTakeMore()) {
            current.onWritable(); // a no-op when nothing waits for it
        }
    }

    /**
     * An extended CONNECT's tunnel (RFC 9220) may stay quiet for minutes. Netty 4.2.18 reports a client's
     * RESET_STREAM / STOP_SENDING on a request stream only when we next write to it (see
     * {@code Http3StreamStopDetector}), so a quiet tunnel would outlive its client. An empty DATA frame
     * each second is that write (two bytes; RFC 9114 allows empty DATA frames, and the client's WebSocket
     * layer sees no bytes): a stopped stream then fails it or turns unwritable, and the stream closes.
     */
    @Override
    public void enterTunnel() {
        ctx.executor().schedule(this::probeTunnel, TUNNEL_PROBE_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void probeTunnel() {
        if (closing || current == null || !ctx.channel().isActive()
                || ((QuicStreamChannel) ctx.channel()).isOutputShutdown()) {
            return;
        }
        ctx.writeAndFlush(new DefaultHttpContent(Unpooled.EMPTY_BUFFER), ctx.voidPromise()); // one empty DATA frame
        ctx.executor().schedule(this::probeTunnel, TUNNEL_PROBE_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * STOP_SENDING: the response (already sent with FIN) stands, the upload stops. Whatever of the request still
     * arrives is dropped, and must not reset the stream (its answer stands, RFC 9114 section 4.1.2): the listener's
     * {@code onRequestStopped} sees to that.
     */
    @Override
    void stopUnfinishedRequest() {
        onRequestStopped.accept(ctx.pipeline());
        ((QuicStreamChannel) ctx.channel()).shutdownInput(Http3ErrorCode.H3_NO_ERROR.code());
    }

    /** RESET_STREAM + STOP_SENDING. */
    @Override
    void resetStream() {
        ((QuicStreamChannel) ctx.channel()).shutdown(Http3ErrorCode.H3_INTERNAL_ERROR.code());
    }
}
