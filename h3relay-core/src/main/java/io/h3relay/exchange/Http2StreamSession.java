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
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.PromiseCombiner;

import java.util.concurrent.TimeUnit;

/**
 * One h2 stream: the client's RST_STREAM ends the exchange; we stop uploads and cut streams with RST_STREAM.
 *
 * <p>The stream's frames and the exchange's {@code HttpObject}s are converted here, as Netty's
 * {@code Http2StreamFrameToHttpObjectCodec} (server side, headers validated) does, so that a stream's pipeline is
 * this one handler: no codec handler that every message and frame passes through (its type checks, output lists
 * and promise handling per message). With that codec in front (as a test may put it), frames come and go through
 * it unchanged: a request arrives as {@code HttpObject}s and is taken as it is.
 */
public final class Http2StreamSession extends StreamSession {

    // Measurement switch (issue 19): the connection flush off in one JVM, for paired runs of one build.
    private static final boolean STREAM_FLUSH = Boolean.getBoolean("h3relay.h2.streamFlush");
    private static final long LINGER_MILLIS = 2_000;
    private static final int LINGER_BYTES = 1 << 20;
    /** Bytes of an answered request's upload still read and dropped ({@link #abandonRequest}); -1: not lingering. */
    private int lingerLeft = -1;
    /** The stream's connection's one flush per event-loop turn; null without a parent (a test's channel). */
    private Http2ConnectionFlush connectionFlush;

    public Http2StreamSession(ListenerState listener, ExchangeStarter starter, long retryAfterSeconds) {
        super(listener, starter, retryAfterSeconds);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        var parent = ctx.channel().parent();
        connectionFlush = parent == null || STREAM_FLUSH ? null : Http2ConnectionFlush.of(parent);
        super.handlerAdded(ctx);
    }

    @Override
    public DownstreamProtocol protocol() {
        return DownstreamProtocol.H2;
    }

    @Override
    void frameHead(io.netty.handler.codec.http.HttpResponse head, boolean whole) {
        advertiseHttp3(head);
    }

    // ---- frames in ------------------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (lingerLeft >= 0 && msg instanceof Http2DataFrame data) {
            lingerLeft -= data.initialFlowControlledBytes();
            boolean end = data.isEndStream(); // the stream closes, and its channel with it: no reset
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
                // as the codec did: the frame released, the failure reported as a decoder's (a malformed request)
                ReferenceCountUtil.release(msg);
                exceptionCaught(ctx, new DecoderException(e));
                return;
            }
            msg = http;
        }
        super.channelRead(ctx, msg);
    }

    // ---- frames out -----------------------------------------------------------------------------------

    @Override
    public void writeInterim(HttpResponse interim) {
        writeFrames(interim, ctx.voidPromise());
        ctx.flush();
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
     * pipeline for every stream: the stream channel's writes are on the connection already (only its flush is
     * deferred), and its close flushes what it writes itself (a RST_STREAM) with everything queued before.
     */
    @Override
    public void flush() {
        if (connectionFlush != null) {
            connectionFlush.request();
        } else {
            ctx.flush();
        }
    }

    @Override
    void write(Object msg) {
        writeFrames(msg, ctx.voidPromise());
    }

    /**
     * A response part as h2 frames (a head as HEADERS, with END_STREAM when a full response has neither body nor
     * trailers; body as DATA; trailers as a closing HEADERS; an empty last part as an empty DATA with
     * END_STREAM), written with {@code promise} (several frames: it completes when all are written).
     */
    private ChannelFuture writeFrames(Object msg, ChannelPromise promise) {
        if (!(msg instanceof HttpObject obj)) {
            return ctx.write(msg, promise);
        }
        Object[] frames = new Object[3];
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
                }
                if (obj instanceof LastHttpContent last) {
                    boolean noTrailers = last.trailingHeaders().isEmpty();
                    boolean needFiller = !(last instanceof FullHttpMessage) && noTrailers;
                    Object trailers = noTrailers ? null : new DefaultHttp2HeadersFrame(
                            HttpConversionUtil.toHttp2Headers(last.trailingHeaders(), true), true);
                    if (last.content().isReadable() || needFiller) {
                        frames[n++] = new DefaultHttp2DataFrame(last.content(), noTrailers);
                        contentHandedOn = true;
                    }
                    if (trailers != null) {
                        frames[n++] = trailers;
                    }
                } else if (obj instanceof HttpContent c) {
                    frames[n++] = new DefaultHttp2DataFrame(c.content(), false);
                    contentHandedOn = true;
                }
            }
        } catch (Throwable t) {
            ReferenceCountUtil.release(msg); // no frame was written: the message still holds its buffer
            promise.setFailure(t instanceof EncoderException ? t : new EncoderException(t));
            return promise;
        }
        if (!contentHandedOn) {
            ReferenceCountUtil.release(msg); // a head, or a full response without body: its (empty) buffer
        }
        if (n == 0) {
            promise.setFailure(new EncoderException("nothing to write for " + msg.getClass().getSimpleName()));
            return promise;
        }
        if (n == 1) {
            return ctx.write(frames[0], promise);
        }
        if (promise.isVoid()) {
            for (int i = 0; i < n; i++) {
                ctx.write(frames[i], promise);
            }
            return promise;
        }
        PromiseCombiner all = new PromiseCombiner(ctx.executor());
        for (int i = 0; i < n; i++) {
            all.add(ctx.write(frames[i]));
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
        if (!sent.isSuccess() || !ctx.channel().isActive()) {
            super.abandonRequest(sent);
            return;
        }
        lingerLeft = LINGER_BYTES;
        readRequest(true);
        var timer = ctx.executor().schedule(this::stopLingering, LINGER_MILLIS, TimeUnit.MILLISECONDS);
        ctx.channel().closeFuture().addListener(f -> timer.cancel(false));
    }

    private void stopLingering() {
        lingerLeft = -1;
        if (ctx.channel().isActive()) {
            super.abandonRequest(ctx.newSucceededFuture());
        }
    }

    /** RST_STREAM NO_ERROR after a complete response tells the client to keep it (RFC 9113 section 8.1). */
    @Override
    void stopUnfinishedRequest() {
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
    }

    @Override
    void malformedRequest(ChannelHandlerContext ctx) {
        // RFC 9113 section 8.1.1: a malformed request is a stream error of type PROTOCOL_ERROR.
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR)).addListener(f -> ctx.close());
    }

    /**
     * A stream error the codec found in the client's frames after the head (a {@code content-length} the DATA
     * does not match, RFC 9113 section 8.1.1): reset with the codec's code (PROTOCOL_ERROR), not the
     * CANCEL a bare close sends. Closing the stream channel ends the exchange (and its upstream request).
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Only while no whole response went out: after a local answer (a 413, say) the stream is being stopped
        // with NO_ERROR already (stopUnfinishedRequest), which stays.
        if (cause instanceof Http2Exception.StreamException e && ctx.channel().isActive() && lastWrite == null) {
            closing = true;
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(e.error())).addListener(f -> ctx.close());
            return;
        }
        super.exceptionCaught(ctx, cause);
    }

    @Override
    void resetStream() {
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR));
    }
}
