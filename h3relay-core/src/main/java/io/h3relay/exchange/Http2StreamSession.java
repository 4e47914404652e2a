package io.h3relay.exchange;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.PromiseCombiner;
import io.netty.util.concurrent.ScheduledFuture;

import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One h2 stream: the client's RST_STREAM ends the exchange; we stop uploads and cut streams with RST_STREAM.
 *
 * <p>Not a channel of its own: the connection's {@link Http2Streams} keeps one session per stream and hands it
 * the stream's frames and events; the session writes its frames on the connection (its {@link #channel()} is
 * the connection), with the stream set on each. What Netty's child channel per stream did for it is done here, in
 * fields: backpressure (frames held while the exchange does not read, their flow-control credit returned only as
 * it reads), writability (the stream's send window and the connection's), and a close that resets a stream not
 * ended both ways, with the exchange told after the current task, as a channel's inactive event would.
 *
 * <p>The stream's frames and the exchange's {@code HttpObject}s are converted here, as Netty's
 * {@code Http2StreamFrameToHttpObjectCodec} (server side, headers validated) does.
 */
public final class Http2StreamSession extends StreamSession {

    private static final long LINGER_MILLIS = 2_000;
    private static final int LINGER_BYTES = 1 << 20;

    private final Http2Streams streams;
    private final Http2FrameStream stream;
    /** Bytes of an answered request's upload still read and dropped ({@link #abandonRequest}); -1: not lingering. */
    private int lingerLeft = -1;
    private ScheduledFuture<?> lingerTimer;
    /** Whether the exchange takes request frames now (backpressure: false holds them in {@link #held}). */
    private boolean reading;
    private boolean draining;
    /** Frames that arrived while the exchange did not read, oldest first; null while none. */
    private ArrayDeque<Http2StreamFrame> held;
    /** DATA bytes handed to the exchange whose flow-control credit has not gone back to the client yet. */
    private int unconsumed;
    /** Handed frames in the connection's current read: {@link #readComplete} follows at its end. */
    boolean inReadBatch;
    private boolean receivedEnd;
    private boolean sentEnd;
    /** Until the stream is closed, or this session closed it: then nothing more is read or written. */
    private boolean open = true;

    Http2StreamSession(ListenerState listener, ExchangeStarter starter, long retryAfterSeconds, Http2Streams streams,
                       Http2FrameStream stream) {
        super(listener, starter, retryAfterSeconds);
        this.streams = streams;
        this.stream = stream;
    }

    /** Takes the connection's context (the {@link Http2Streams} handler's) and starts reading the request. */
    void attach(ChannelHandlerContext connection) {
        handlerAdded(connection);
    }

    @Override
    public DownstreamProtocol protocol() {
        return DownstreamProtocol.H2;
    }

    /** The stream's id (its key in {@link Http2Streams}). */
    int streamId() {
        return stream.id();
    }

    @Override
    void frameHead(io.netty.handler.codec.http.HttpResponse head, boolean whole) {
        advertiseHttp3(head);
    }

    // ---- frames in ------------------------------------------------------------------------------------

    /** A HEADERS or DATA frame of this stream from the connection's read. */
    void frame(Http2StreamFrame frame) {
        if (!open) {
            ReferenceCountUtil.release(frame);
        } else if (reading && held == null) {
            hand(frame);
        } else {
            if (held == null) {
                held = new ArrayDeque<>(4);
            }
            held.add(frame);
        }
    }

    private void hand(Http2StreamFrame frame) {
        if (frame instanceof Http2DataFrame data) {
            unconsumed += data.initialFlowControlledBytes();
            receivedEnd |= data.isEndStream();
        } else if (frame instanceof Http2HeadersFrame headers) {
            receivedEnd |= headers.isEndStream();
        }
        streams.handed(this);
        channelRead(ctx, frame);
    }

    /** The end of the connection's read (or of frames handed on outside it): the exchange flushes what it wrote. */
    void readComplete() {
        returnCredit();
        channelReadComplete(ctx);
    }

    /** Gives the client back the flow-control credit of what the exchange took, while it reads. */
    private void returnCredit() {
        if (unconsumed > 0 && reading && open && stream.state() != Http2Stream.State.CLOSED) {
            int bytes = unconsumed;
            unconsumed = 0;
            ctx.write(new DefaultHttp2WindowUpdateFrame(bytes).stream(stream), ctx.voidPromise());
            if (!streams.inRead()) {
                flush();
            }
        }
    }

    @Override
    public void readRequest(boolean on) {
        reading = on;
        if (!on || draining || !open) {
            return;
        }
        if (held != null) {
            draining = true;
            try {
                Http2StreamFrame next;
                while (reading && open && (next = held.poll()) != null) {
                    hand(next);
                }
                if (held != null && held.isEmpty()) {
                    held = null;
                }
            } finally {
                draining = false;
            }
        }
        if (streams.inRead()) {
            if (unconsumed > 0) {
                streams.handed(this); // its credit goes back at the end of the connection's read
            }
            return;
        }
        if (inReadBatch) { // held frames went on outside a read: their read complete, as a stream channel's
            inReadBatch = false;
            readComplete();
        } else {
            returnCredit();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (lingerLeft >= 0 && msg instanceof Http2DataFrame data) {
            lingerLeft -= data.initialFlowControlledBytes();
            boolean end = data.isEndStream(); // the stream closes with it: no reset
            ReferenceCountUtil.release(msg);
            if (lingerLeft < 0 && !end) {
                stopLingering();
            }
            return;
        }
        if (msg instanceof Http2HeadersFrame || msg instanceof Http2DataFrame) {
            HttpObject http;
            try {
                http = io.h3relay.transport.Http2Frames.toHttpObject((Http2StreamFrame) msg, ctx.alloc(), true);
            } catch (Exception e) {
                // as Netty's codec did: the frame released, the failure reported as a decoder's (a malformed request)
                ReferenceCountUtil.release(msg);
                exceptionCaught(ctx, new DecoderException(e));
                return;
            }
            msg = http;
        }
        super.channelRead(ctx, msg);
    }

    // ---- the stream's events --------------------------------------------------------------------------

    /** The stream's send window or the connection's writability changed. */
    void writabilityEvent() {
        if (open) {
            writabilityChanged();
        }
    }

    @Override
    public boolean canTakeMore() {
        return open && streams.isWritable(stream);
    }

    /** The codec closed the stream (both sides ended, a reset either way, the connection gone). */
    void streamClosed() {
        finish();
    }

    // ---- frames out -----------------------------------------------------------------------------------

    @Override
    public void writeInterim(HttpResponse interim) {
        writeFrames(interim, ctx.voidPromise());
        flush();
    }

    @Override
    public void writeLast(LastHttpContent last) {
        lastWrite = writeFrames(last, ctx.newPromise());
        flush();
    }

    @Override
    public void writeResponse(FullHttpResponse response) {
        frameHead(response, true);
        lastWrite = writeFrames(response, ctx.newPromise());
        flush();
    }

    /**
     * Once per connection and event-loop turn (see {@link Http2ConnectionFlush}), not down the connection's
     * pipeline for every stream.
     */
    @Override
    public void flush() {
        streams.flush();
    }

    @Override
    void write(Object msg) {
        writeFrames(msg, ctx.voidPromise());
    }

    /**
     * A response part as h2 frames of this stream (a head as HEADERS, with END_STREAM when a full response has
     * neither body nor trailers; body as DATA; trailers as a closing HEADERS; an empty last part as an empty DATA
     * with END_STREAM), written with {@code promise} (several frames: it completes when all are written).
     */
    private ChannelFuture writeFrames(Object msg, ChannelPromise promise) {
        if (!open) {
            ReferenceCountUtil.release(msg); // the stream is gone: as a closed channel's write, nothing goes out
            return promise.isVoid() ? promise : promise.setFailure(new ClosedChannelException());
        }
        if (!(msg instanceof HttpObject obj)) {
            ReferenceCountUtil.release(msg);
            return promise.isVoid() ? promise
                    : promise.setFailure(new EncoderException("not a response part: " + msg.getClass().getName()));
        }
        Http2StreamFrame[] frames = new Http2StreamFrame[3];
        int n = 0;
        boolean contentHandedOn = false;
        try {
            if (obj instanceof HttpResponse res && res.status().equals(HttpResponseStatus.CONTINUE)) {
                if (!(res instanceof FullHttpResponse)) {
                    throw new EncoderException(HttpResponseStatus.CONTINUE + " must be a FullHttpResponse");
                }
                frames[n++] = new DefaultHttp2HeadersFrame(HttpConversionUtil.toHttp2Headers(res, true), false);
            } else {
                if (obj instanceof HttpMessage m) {
                    boolean endStream = m instanceof FullHttpMessage full && !full.content().isReadable()
                            && full.trailingHeaders().isEmpty();
                    frames[n++] = new DefaultHttp2HeadersFrame(HttpConversionUtil.toHttp2Headers(m, true), endStream);
                    sentEnd |= endStream;
                }
                if (obj instanceof LastHttpContent last) {
                    boolean noTrailers = last.trailingHeaders().isEmpty();
                    boolean needFiller = !(last instanceof FullHttpMessage) && noTrailers;
                    Http2StreamFrame trailers = noTrailers ? null : new DefaultHttp2HeadersFrame(
                            HttpConversionUtil.toHttp2Headers(last.trailingHeaders(), true), true);
                    if (last.content().isReadable() || needFiller) {
                        frames[n++] = new DefaultHttp2DataFrame(last.content(), noTrailers);
                        contentHandedOn = true;
                    }
                    if (trailers != null) {
                        frames[n++] = trailers;
                    }
                    sentEnd = true;
                } else if (obj instanceof HttpContent c) {
                    frames[n++] = new DefaultHttp2DataFrame(c.content(), false);
                    contentHandedOn = true;
                }
            }
        } catch (Throwable t) {
            ReferenceCountUtil.release(msg); // no frame was written: the message still holds its buffer
            return promise.setFailure(t instanceof EncoderException ? t : new EncoderException(t));
        }
        if (!contentHandedOn) {
            ReferenceCountUtil.release(msg); // a head, or a full response without body: its (empty) buffer
        }
        if (n == 0) {
            return promise.setFailure(new EncoderException("nothing to write for " + msg.getClass().getSimpleName()));
        }
        if (n == 1) {
            return ctx.write(frames[0].stream(stream), promise);
        }
        if (promise.isVoid()) {
            for (int i = 0; i < n; i++) {
                ctx.write(frames[i].stream(stream), promise);
            }
            return promise;
        }
        PromiseCombiner all = new PromiseCombiner(ctx.executor());
        for (int i = 0; i < n; i++) {
            all.add(ctx.write(frames[i].stream(stream)));
        }
        all.finish(promise);
        return promise;
    }

    @Override
    boolean isStreamReset(Object msg) {
        return msg instanceof Http2ResetFrame;
    }

    /**
     * After a complete response (a 413, say) the rest of the request is read and dropped for up to
     * {@value #LINGER_MILLIS} ms and {@value #LINGER_BYTES} bytes, and the stream ends as the client finishes its
     * upload; only past that is it stopped with RST_STREAM NO_ERROR. Like nginx, which lets such a stream's
     * upload finish instead of resetting it: clients mishandle a NO_ERROR reset that arrives while they are still
     * sending (curl 7.88 drops the response it has received and fails with "stream error"; Chromium issue 603182).
     * An h2 stream's lingering close, as {@link Http1Session}'s is the connection's.
     */
    @Override
    void abandonRequest(ChannelFuture sent) {
        if (!sent.isSuccess() || !open) {
            super.abandonRequest(sent);
            return;
        }
        lingerLeft = LINGER_BYTES;
        readRequest(true);
        if (open) {
            lingerTimer = ctx.executor().schedule(this::stopLingering, LINGER_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    private void stopLingering() {
        lingerLeft = -1;
        if (open) {
            super.abandonRequest(ctx.newSucceededFuture());
        }
    }

    /** RST_STREAM NO_ERROR after a complete response tells the client to keep it (RFC 9113 section 8.1). */
    @Override
    void stopUnfinishedRequest() {
        writeReset(Http2Error.NO_ERROR);
    }

    @Override
    void malformedRequest() {
        // RFC 9113 section 8.1.1: a malformed request is a stream error of type PROTOCOL_ERROR.
        reset(Http2Error.PROTOCOL_ERROR);
    }

    /**
     * A stream error the codec found in the client's frames after the head (a {@code content-length} the DATA
     * does not match, RFC 9113 section 8.1.1): reset with the codec's code (PROTOCOL_ERROR), not the
     * CANCEL a bare close sends. Closing the stream ends the exchange (and its upstream request).
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Only while no whole response went out: after a local answer (a 413, say) the stream is being stopped
        // with NO_ERROR already (stopUnfinishedRequest), which stays.
        if (cause instanceof Http2Exception.StreamException e && open && lastWrite == null) {
            closing = true;
            reset(e.error());
            return;
        }
        super.exceptionCaught(ctx, cause);
    }

    @Override
    void resetStream() {
        writeReset(Http2Error.INTERNAL_ERROR);
    }

    @Override
    public void connectionDraining() {
        ctx.pipeline().fireUserEventTriggered(DRAIN_EVENT);
    }

    /** Resets the stream with {@code error} and closes the session. */
    private void reset(Http2Error error) {
        writeReset(error);
        finish();
    }

    private void writeReset(Http2Error error) {
        if (open && ctx.channel().isActive()) {
            ctx.write(new DefaultHttp2ResetFrame(error).stream(stream), ctx.voidPromise());
            ctx.flush();
        }
    }

    /**
     * As a stream channel's close: a stream not ended both ways is reset with CANCEL (the client must not wait
     * for the rest), one that ended both ways is left to finish sending what is queued.
     */
    @Override
    void closeChannel() {
        if (open && !(receivedEnd && sentEnd) && stream.state() != Http2Stream.State.CLOSED) {
            writeReset(Http2Error.CANCEL);
        }
        finish();
    }

    /**
     * Nothing more is read or written; the held frames are dropped; the exchange learns of it after the current
     * task (as from a channel's inactive event: never inside the call that closed the stream).
     */
    private void finish() {
        if (!open) {
            return;
        }
        open = false;
        reading = false;
        streams.remove(this);
        if (held != null) {
            for (Http2StreamFrame f; (f = held.poll()) != null; ) {
                ReferenceCountUtil.release(f);
            }
            held = null;
        }
        if (lingerTimer != null) {
            lingerTimer.cancel(false);
        }
        if (current == null) {
            closing = true; // all closed() would do: no exchange to tell (the common end of a stream)
        } else {
            try {
                ctx.executor().execute(this::closed);
            } catch (RejectedExecutionException e) {
                closed(); // the event loop is shutting down (its connections closing): tell the exchange now
            }
        }
    }
}
