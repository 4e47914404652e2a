package io.h3relay.listener.h3;

import io.h3relay.http3.FieldChecks;
import io.h3relay.http3.Http3CodecException;
import io.h3relay.http3.Http3Frames;
import io.h3relay.http3.QpackFields;
import io.h3relay.http3.RequestFields;
import io.h3relay.proxy.ForwardingHeaders;
import io.h3relay.quic.Http3StreamWriteCoalescer;
import io.h3relay.quic.StreamsClosedBeforeFin;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamFrame;
import io.netty.util.AsciiString;
import io.netty.util.CharsetUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * One HTTP/3 request stream, framed and QPACK-coded by h3relay (package {@code io.h3relay.http3}): the one
 * handler between the stream and the session, where Netty's HTTP/3 stack puts five (its frame codec, three state
 * validators, its frame-to-HttpObject adapter) and ours a guard and the write coalescer. The coalescer
 * ({@link Http3StreamWriteCoalescer}: one buffer per flush, the FIN on the last bytes) is part of this handler
 * here, not a handler of its own. Used when QPACK's dynamic
 * table is off (the default, {@code http3.qpack_max_table_capacity: 0}): the field sections then need no state
 * of the connection's. With the table on, Netty's stack decodes (its decoder keeps the table).
 *
 * <p>In: the stream's bytes, read as QUIC stream frames (so a FIN that comes with the HEADERS makes a whole
 * request at once); HEADERS become the session's {@code HttpRequest} (checked by {@link RequestFields}), DATA
 * its body parts, as they arrive, a second HEADERS its trailers. Out: the session's {@code HttpResponse}, body
 * parts and end as HEADERS and DATA frames.
 *
 * <p>Client errors (RFC 9114 section 8, RFC 9204 section 6): a malformed request resets the stream
 * (H3_MESSAGE_ERROR); a field section that cannot be decoded closes the connection (QPACK_DECOMPRESSION_FAILED),
 * as does a section over SETTINGS_MAX_FIELD_SECTION_SIZE (H3_EXCESSIVE_LOAD), a frame that is not allowed here
 * or out of order (H3_FRAME_UNEXPECTED) and a frame cut off by the stream's end (H3_FRAME_ERROR). Unknown frame
 * types are skipped. No whole HEADERS frame within {@code request_headers_timeout}, or before the FIN, resets the
 * stream (H3_REQUEST_INCOMPLETE, {@link Http3HeadTimeout}). After an error what else arrives is dropped.
 *
 * <p>Also what {@link Http3RequestStreamGuard} does on Netty's path: a stream the client stopped is closed
 * ({@link Http3StreamStopDetector}), a stream that closes before its FIN was read is reported to the connection's
 * guard, and once the session stops the rest of an answered request ({@link #requestStopped}) the rest is dropped
 * unchecked, so its Content-Length cannot reset an answer that stands.
 */
final class Http3RequestStream extends ChannelDuplexHandler {
    private static final Logger LOG = LoggerFactory.getLogger(Http3RequestStream.class);
    /** Body parts up to this size are copied behind their frame header (the coalescer would copy them anyway). */
    private static final int COPY_LIMIT = 1024;
    private static final int HEAD = 0;
    private static final int BODY = 1;
    private static final int TRAILERS = 2;
    private static final int DONE = 3;
    private static final int DROPPING = 4;

    private final long maxFieldSection;
    /** Not a handler of its own here: this handler's writes and flushes go through it, to the stream. */
    private final Http3StreamWriteCoalescer send;
    private final Http3StreamWatch watch;
    private int state = HEAD;
    /** Bytes of a frame not read whole yet (a frame header, a HEADERS frame); never DATA that was handed on. */
    private ByteBuf cumulation;
    /** What is left of the current DATA frame, and of a skipped frame. */
    private long dataLeft;
    private long skipLeft;
    private long declaredLength = -1;
    private long received;
    /** The response's end was written: the rest of a malformed request is dropped, the answer stands. */
    private boolean responseEnded;

    Http3RequestStream(long maxFieldSection, long headTimeoutNanos, Http3ConnectionGuard connection,
                       Http3StreamWriteCoalescer send) {
        this.maxFieldSection = maxFieldSection;
        this.watch = new Http3StreamWatch(headTimeoutNanos, connection);
        this.send = send;
    }

    @Override
    public boolean isSharable() {
        return false; // without asking Netty's per-thread cache, once per stream
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        watch.added(ctx);
        send.handlerAdded(ctx);
    }

    /** The session answered and stopped the rest of the request: what else arrives is dropped, unchecked. */
    void requestStopped() {
        state = DROPPING;
    }

    // ------------------------------------------------------------------ in

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf data;
        boolean fin;
        if (msg instanceof QuicStreamFrame frame) {
            data = frame.content();
            fin = frame.hasFin();
        } else if (msg instanceof ByteBuf buf) {
            data = buf;
            fin = false;
        } else {
            ctx.fireChannelRead(msg);
            return;
        }
        if (fin) {
            watch.finRead();
        }
        if (state == DROPPING) {
            data.release();
            return;
        }
        try {
            read(ctx, data, fin);
        } catch (Http3CodecException e) {
            connectionError(ctx, e.code(), e.getMessage());
        }
    }

    private void read(ChannelHandlerContext ctx, ByteBuf data, boolean fin) throws Http3CodecException {
        ByteBuf in = data;
        if (cumulation != null) {
            cumulation.writeBytes(data);
            data.release();
            in = cumulation;
        }
        try {
            frames(ctx, in, fin);
            if (state == DROPPING) {
                return;
            }
            if (!in.isReadable()) {
                releaseCumulation();
            } else if (in != cumulation) {
                cumulation = ctx.alloc().heapBuffer(Math.max(64, in.readableBytes()));
                cumulation.writeBytes(in);
            } else {
                cumulation.discardSomeReadBytes();
            }
            if (fin) {
                ended(ctx);
            }
        } finally {
            if (in == data) {
                data.release();
            }
            if (state == DROPPING) {
                releaseCumulation();
            }
        }
    }

    private void frames(ChannelHandlerContext ctx, ByteBuf in, boolean fin) throws Http3CodecException {
        while (state != DROPPING) {
            if (dataLeft > 0) {
                if (!in.isReadable()) {
                    return;
                }
                int n = (int) Math.min(dataLeft, in.readableBytes());
                // A slice of the stream's read buffer, not of the cumulation (which is reused)
                ByteBuf part = in == cumulation ? in.readBytes(n) : in.readRetainedSlice(n);
                dataLeft -= n;
                body(ctx, part, fin && dataLeft == 0 && !in.isReadable());
                continue;
            }
            if (skipLeft > 0) {
                int n = (int) Math.min(skipLeft, in.readableBytes());
                in.skipBytes(n);
                skipLeft -= n;
                if (skipLeft > 0) {
                    return;
                }
                continue;
            }
            int at = in.readerIndex();
            int readable = in.readableBytes();
            if (readable < 2) {
                return;
            }
            int typeLength = Http3Frames.varintLength(in.getByte(at));
            if (readable < typeLength + 1) {
                return;
            }
            int lengthLength = Http3Frames.varintLength(in.getByte(at + typeLength));
            int header = typeLength + lengthLength;
            if (readable < header) {
                return;
            }
            long type = Http3Frames.getVarint(in, at);
            long length = Http3Frames.getVarint(in, at + typeLength);
            if (type == Http3Frames.HEADERS) {
                if (length > maxFieldSection) {
                    throw new Http3CodecException(Http3ErrorCode.H3_EXCESSIVE_LOAD,
                            "HEADERS frame of " + length + " bytes over SETTINGS_MAX_FIELD_SECTION_SIZE");
                }
                if (readable < header + length) {
                    return; // the rest of the frame is still to come
                }
                in.skipBytes(header);
                int start = in.readerIndex();
                in.skipBytes((int) length);
                headers(ctx, in, start, (int) length, fin && !in.isReadable());
            } else if (type == Http3Frames.DATA) {
                if (state != BODY) {
                    throw new Http3CodecException(Http3ErrorCode.H3_FRAME_UNEXPECTED,
                            state == HEAD ? "DATA before HEADERS" : "DATA after the trailers");
                }
                in.skipBytes(header);
                dataLeft = length;
            } else if (Http3Frames.forbiddenOnRequestStream(type)) {
                throw new Http3CodecException(Http3ErrorCode.H3_FRAME_UNEXPECTED,
                        "frame type 0x" + Long.toHexString(type) + " on a request stream");
            } else {
                in.skipBytes(header);
                skipLeft = length; // an unknown type (RFC 9114 section 9)
            }
        }
    }

    private void headers(ChannelHandlerContext ctx, ByteBuf in, int start, int length, boolean ended)
            throws Http3CodecException {
        if (state != HEAD && state != BODY) {
            throw new Http3CodecException(Http3ErrorCode.H3_FRAME_UNEXPECTED, "HEADERS after the trailers");
        }
        boolean trailers = state == BODY;
        RequestFields fields = new RequestFields(maxFieldSection, trailers);
        QpackFields.decode(in, start, length, fields);
        if (fields.tooLarge()) {
            throw new Http3CodecException(Http3ErrorCode.H3_EXCESSIVE_LOAD,
                    "field section over SETTINGS_MAX_FIELD_SECTION_SIZE");
        }
        String problem = fields.problem();
        if (problem != null) {
            malformed(ctx, problem);
            return;
        }
        if (trailers) {
            if (lengthDiffers()) {
                malformed(ctx, "DATA bytes other than content-length");
                return;
            }
            state = TRAILERS;
            ctx.fireChannelRead(fields.trailers());
            return;
        }
        watch.headDone();
        declaredLength = fields.contentLength();
        if (ended && declaredLength > 0) {
            malformed(ctx, "content-length without DATA");
            return;
        }
        HttpRequest request;
        try {
            request = fields.request(ended);
        } catch (IllegalArgumentException e) {
            // What Netty's HttpRequest refuses beyond the checks above: client input, a malformed request
            malformed(ctx, String.valueOf(e.getMessage()));
            return;
        }
        state = ended ? DONE : BODY;
        ctx.fireChannelRead(request);
    }

    private void body(ChannelHandlerContext ctx, ByteBuf part, boolean last) {
        received += part.readableBytes();
        if (declaredLength >= 0 && received > declaredLength) {
            part.release();
            malformed(ctx, "more DATA bytes than content-length");
            return;
        }
        if (!last) {
            ctx.fireChannelRead(new DefaultHttpContent(part));
        } else if (lengthDiffers()) {
            // The session sees the bytes first (as the end of input comes after them): an answer it gives at
            // once (a 400 for the head it held) stands, and the short body is dropped rather than reset
            ctx.fireChannelRead(new DefaultHttpContent(part));
            if (state != DROPPING) {
                malformed(ctx, "fewer DATA bytes than content-length");
            }
        } else {
            state = DONE;
            ctx.fireChannelRead(new DefaultLastHttpContent(part));
        }
    }

    private boolean lengthDiffers() {
        return declaredLength >= 0 && received != declaredLength;
    }

    /** The client's FIN came (and everything before it was read). */
    private void ended(ChannelHandlerContext ctx) {
        if (state == DONE || state == DROPPING) {
            return;
        }
        boolean cut = dataLeft > 0 || skipLeft > 0 || cumulation != null;
        if (state == HEAD) {
            state = DROPPING;
            watch.inputEnded(); // FIN before a whole HEADERS frame: the request can never complete
        } else if (cut) {
            connectionError(ctx, Http3ErrorCode.H3_FRAME_ERROR, "a frame cut off by the end of the stream");
        } else if (state == TRAILERS) {
            state = DONE;
        } else if (lengthDiffers()) {
            malformed(ctx, "fewer DATA bytes than content-length");
        } else {
            state = DONE;
            ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    /**
     * Resets the stream (H3_MESSAGE_ERROR), unless the response has ended: a complete answer stands (RFC 9114
     * section 4.1.2; a reset after it may make the client drop it), the rest of the request is dropped.
     */
    private void malformed(ChannelHandlerContext ctx, String why) {
        state = DROPPING;
        watch.headDone();
        if (responseEnded) {
            LOG.debug("h3 stream {}: malformed rest of an answered request ({}); dropped", ctx.channel(), why);
        } else {
            Http3MalformedRequestGuard.refuse(ctx, why);
        }
    }

    private void connectionError(ChannelHandlerContext ctx, Http3ErrorCode code, String why) {
        state = DROPPING;
        watch.headDone();
        releaseCumulation();
        LOG.debug("h3 stream {}: {} ({}); closing the connection", ctx.channel(), code, why);
        if (ctx.channel().parent() instanceof QuicChannel quic) {
            quic.close(true, code.code(), Unpooled.copiedBuffer(why, CharsetUtil.US_ASCII));
        } else {
            ctx.close();
        }
    }

    private void releaseCumulation() {
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        watch.readComplete();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (StreamsClosedBeforeFin.isFin(evt)) {
            watch.finRead();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (!watch.writabilityChanged(ctx)) {
            ctx.fireChannelWritabilityChanged();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        watch.inactive();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        watch.removed();
        releaseCumulation();
        send.handlerRemoved(ctx);
    }

    // ------------------------------------------------------------------ out

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse res) {
            ByteBuf head = headersFrame(ctx, res.status().code(), res.headers());
            if (res.status().code() < 200 || !(msg instanceof LastHttpContent last)) {
                if (msg instanceof FullHttpResponse full) {
                    full.release(); // an interim response: its head only
                }
                send.writeOwned(ctx, head, promise);
                return;
            }
            writeEnd(ctx, head, last, promise);
        } else if (msg instanceof LastHttpContent last) {
            writeEnd(ctx, null, last, promise);
        } else if (msg instanceof HttpContent part) {
            writeData(ctx, null, part.content(), promise);
        } else {
            send.write(ctx, msg, promise);
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        send.flush(ctx);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        send.close(ctx, promise);
    }

    /**
     * The response's end after {@code head} (when not null): its last DATA (an empty one when nothing else would
     * carry the FIN), its trailers, and the FIN on the last of those bytes.
     */
    private void writeEnd(ChannelHandlerContext ctx, ByteBuf head, LastHttpContent last, ChannelPromise promise) {
        responseEnded = true;
        HttpHeaders trailers = last.trailingHeaders();
        ByteBuf content = last.content();
        if (head == null && trailers.isEmpty() && !content.isReadable()
                && send.endStreamWithPending() instanceof ChannelPromise pending) {
            content.release(); // an empty end: the FIN rides on what waits in the coalescer (the head, a body part)
            if (!promise.isVoid()) {
                pending.addListener(f -> complete(f, promise));
            }
            return;
        }
        ChannelPromise p = promise.unvoid();
        if (trailers.isEmpty()) {
            if (head != null && !content.isReadable()) {
                content.release();
                send.writeOwned(ctx, head, p);
            } else {
                writeData(ctx, head, content, p); // (an empty end alone: an empty DATA frame carries the FIN)
            }
        } else {
            if (content.isReadable()) {
                writeData(ctx, head, content, ctx.voidPromise());
            } else {
                content.release();
                if (head != null) {
                    send.writeOwned(ctx, head, ctx.voidPromise());
                }
            }
            send.writeOwned(ctx, headersFrame(ctx, -1, trailers), p);
        }
        send.endStreamWith(p);
    }

    private static void complete(io.netty.util.concurrent.Future<?> f, ChannelPromise promise) {
        if (f.isSuccess()) {
            promise.trySuccess();
        } else {
            promise.tryFailure(f.cause());
        }
    }

    /** A DATA frame of {@code content}, after {@code before} (written first, when not null). */
    private void writeData(ChannelHandlerContext ctx, ByteBuf before, ByteBuf content, ChannelPromise promise) {
        int length = content.readableBytes();
        boolean copy = length <= COPY_LIMIT;
        ByteBuf out = before != null ? before : ctx.alloc().directBuffer(copy ? 9 + length : 9);
        out.writeByte(Http3Frames.DATA);
        Http3Frames.writeVarint(out, length);
        if (copy) {
            out.writeBytes(content);
            content.release();
            send.writeOwned(ctx, out, promise);
        } else {
            send.writeOwned(ctx, out, ctx.voidPromise());
            send.write(ctx, content, promise);
        }
    }

    /**
     * A HEADERS frame: {@code :status} (when {@code status} >= 0) and {@code headers} without the connection-specific
     * ones ({@link FieldChecks#connectionSpecific}), {@code Host}, and those the Connection field names.
     */
    private static ByteBuf headersFrame(ChannelHandlerContext ctx, int status, HttpHeaders headers) {
        ByteBuf out = ctx.alloc().directBuffer(256);
        out.writerIndex(3); // the frame's type and a length of up to two bytes go before the section
        QpackFields.writePrefix(out);
        if (status >= 0) {
            QpackFields.writeStatus(out, status);
        }
        CharSequence connection = headers.get(HttpHeaderNames.CONNECTION);
        List<CharSequence> named = connection == null ? null : ForwardingHeaders.connectionTokens(connection, null);
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> field = it.next();
            CharSequence name = field.getKey();
            if (!FieldChecks.connectionSpecific(name, field.getValue())
                    && !AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.HOST) && !named(named, name)) {
                QpackFields.writeField(out, name, field.getValue());
            }
        }
        int length = out.writerIndex() - 3;
        if (length < 0x40) {
            out.setByte(1, Http3Frames.HEADERS);
            out.setByte(2, length);
            out.readerIndex(1);
        } else if (length < 0x4000) {
            out.setByte(0, Http3Frames.HEADERS);
            out.setShort(1, length | 0x4000);
        } else {
            ByteBuf big = ctx.alloc().directBuffer(length + 9);
            big.writeByte(Http3Frames.HEADERS);
            Http3Frames.writeVarint(big, length);
            big.writeBytes(out, 3, length);
            out.release();
            return big;
        }
        return out;
    }

    /** Whether {@code names} (the tokens of a Connection value, or null) hold {@code name}. */
    private static boolean named(List<CharSequence> names, CharSequence name) {
        if (names != null) {
            for (CharSequence n : names) {
                if (AsciiString.contentEqualsIgnoreCase(n, name)) {
                    return true;
                }
            }
        }
        return false;
    }
}
