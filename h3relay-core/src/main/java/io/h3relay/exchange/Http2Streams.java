package io.h3relay.exchange;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;

import java.util.ArrayList;

/**
 * The streams of one h2 connection, behind Netty's {@code Http2FrameCodec}: one {@link Http2StreamSession} per
 * client stream, made at its first HEADERS frame and handed that stream's HEADERS and DATA frames, its state and
 * writability events and its stream errors. Instead of Netty's {@code Http2MultiplexHandler}, which made every
 * stream a child channel (a pipeline, a config, a receive-buffer handle, a close future, and per frame written a
 * promise on the connection with a listener carrying it back to the stream's): those were a tenth to a fifth of
 * the event loop's time per small h2 request (docs/benchmarks.md, issue 19).
 *
 * <p>Like the multiplexer, it ends each read of the connection with one read complete per stream that was handed
 * frames in it (so an exchange flushes what it relayed once per read, not per frame), and it passes connection
 * frames (SETTINGS, PING, GOAWAY) and every other event on. Loop-confined: the connection's event loop.
 */
public final class Http2Streams extends ChannelInboundHandlerAdapter {
    // Measurement switch (issue 19): the connection flush off in one JVM, for paired runs of one build.
    private static final boolean STREAM_FLUSH = Boolean.getBoolean("h3relay.h2.streamFlush");

    private final ListenerState listener;
    private final ExchangeStarter starter;
    private final long retryAfterSeconds;
    private final IntObjectHashMap<Http2StreamSession> sessions = new IntObjectHashMap<>();
    /** Sessions handed frames in the current read of the connection, for their read complete at its end. */
    private final ArrayList<Http2StreamSession> handed = new ArrayList<>();
    private ChannelHandlerContext ctx;
    private Http2FrameCodec codec;
    /** The connection's one flush per event-loop turn; null with the measurement switch. */
    private Http2ConnectionFlush connectionFlush;
    /** The highest stream id a session was made for: a later frame of a lower id is for a finished stream. */
    private int lastStreamId;
    private boolean inRead;

    public Http2Streams(ListenerState listener, ExchangeStarter starter, long retryAfterSeconds) {
        this.listener = listener;
        this.starter = starter;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.codec = ctx.pipeline().get(Http2FrameCodec.class);
        this.connectionFlush = STREAM_FLUSH ? null : new Http2ConnectionFlush(ctx.channel());
        if (codec == null) {
            throw new IllegalStateException("Http2Streams needs an Http2FrameCodec before it in the pipeline");
        }
    }

    // ---- from the codec -------------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Http2StreamFrame frame)) {
            ctx.fireChannelRead(msg); // SETTINGS, PING, GOAWAY: the connection's, as before
            return;
        }
        inRead = true;
        if (!(msg instanceof Http2HeadersFrame) && !(msg instanceof Http2DataFrame)) {
            // RST_STREAM (the codec closes the stream next: streamClosed), WINDOW_UPDATE (the codec's flow
            // control has it), PRIORITY, unknown frame types: nothing for the exchange
            ReferenceCountUtil.release(msg);
            return;
        }
        Http2FrameStream stream = frame.stream();
        int id = stream.id();
        Http2StreamSession session = sessions.get(id);
        if (session == null) {
            if (id <= lastStreamId || !(msg instanceof Http2HeadersFrame)) {
                ReferenceCountUtil.release(msg); // trailers or DATA after this side finished with the stream
                return;
            }
            lastStreamId = id;
            session = new Http2StreamSession(listener, starter, retryAfterSeconds, this, stream);
            sessions.put(id, session);
            session.attach(ctx);
        }
        session.frame(frame);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!handed.isEmpty()) {
            // by index: a session's read complete may hand held frames on (to itself or another session), which
            // puts that session at the end of the list, still in this read
            for (int i = 0; i < handed.size(); i++) {
                Http2StreamSession s = handed.get(i);
                s.inReadBatch = false;
                s.readComplete();
            }
            handed.clear();
        }
        inRead = false;
        ctx.fireChannelReadComplete(); // the codec flushes after this returns (window updates, responses)
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2FrameStreamEvent e) {
            Http2StreamSession session = sessions.get(e.stream().id());
            if (session != null) {
                if (e.type() == Http2FrameStreamEvent.Type.Writability) {
                    session.writabilityEvent();
                } else if (e.stream().state() == Http2Stream.State.CLOSED) {
                    session.streamClosed();
                }
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2FrameStreamException e) {
            // The codec leaves the reset to us. A stream whose HEADERS it refused (a malformed content-length,
            // say) has no session: it is reset here, with the codec's code, and never gets one.
            int id = e.stream().id();
            Http2StreamSession session = sessions.get(id);
            if (session != null) {
                // resets with the codec's code, or (after a whole response) closes the stream: it ends either way
                session.exceptionCaught(ctx, e.getCause());
            } else if (e.stream().state() != Http2Stream.State.CLOSED) {
                lastStreamId = Math.max(lastStreamId, id);
                ctx.writeAndFlush(new DefaultHttp2ResetFrame(e.error()).stream(e.stream()), ctx.voidPromise());
            }
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closeAll();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        closeAll();
    }

    private void closeAll() {
        if (!sessions.isEmpty()) {
            for (Http2StreamSession s : new ArrayList<>(sessions.values())) {
                s.streamClosed();
            }
        }
    }

    // ---- for the sessions -----------------------------------------------------------------------------

    /** Whether the connection is being read: a read complete follows for every session handed frames. */
    boolean inRead() {
        return inRead;
    }

    /** {@code session} was handed a frame: its read complete is owed (at the end of the read, if in one). */
    void handed(Http2StreamSession session) {
        if (!session.inReadBatch) {
            session.inReadBatch = true;
            if (inRead) {
                handed.add(session);
            }
        }
    }

    /**
     * A session's flush: once per connection and event-loop turn (see {@link Http2ConnectionFlush}), not down the
     * connection's pipeline for every stream.
     */
    void flush() {
        if (connectionFlush != null) {
            connectionFlush.request();
        } else {
            ctx.flush();
        }
    }

    void remove(Http2StreamSession session) {
        sessions.remove(session.streamId());
    }

    /** The stream's send window has room and the connection takes writes (Netty's flow controller decides). */
    boolean isWritable(Http2FrameStream stream) {
        Http2Stream s = codec.connection().stream(stream.id());
        return s != null && codec.connection().remote().flowController().isWritable(s);
    }
}
