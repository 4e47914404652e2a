package io.h3relay.listener.h3;

import io.h3relay.exchange.DownstreamProtocol;
import io.h3relay.listener.ListenerContext;
import io.h3relay.exchange.Http3StreamSession;
import io.h3relay.quic.Http3StreamWriteCoalescer;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.http3.Http3FrameToHttpObjectCodec;
import io.netty.handler.codec.quic.QuicStreamChannel;

import java.util.function.Consumer;

/**
 * Each HTTP/3 request stream becomes a channel with the proxy's session handler (as an h1 connection or an h2
 * stream has). Streams opened after a GOAWAY are refused (H3_REQUEST_REJECTED): Netty does not do that by itself.
 *
 * <p>With QPACK's dynamic table off (the default) the stream is h3relay's own: one {@link Http3RequestStream}
 * (frames, QPACK with the static table, request checks, the head timeout, stopped streams, write coalescing) and
 * the session, put in place by {@link #install} before Netty registers the stream; the connection's guard hands
 * such streams past Netty's HTTP/3 connection handler ({@link Http3ConnectionGuard#bypass}), which would put its
 * frame codec and three validators on each.
 *
 * <p>With the table on, Netty's handler has put its frame codec and validators first (its QPACK decoder keeps the
 * connection's table); then one guard in front of Netty's adapter ({@link Http3RequestStreamGuard}) closes a
 * stream the client stopped (Netty does not report that either), resets a malformed request before it becomes a
 * request, resets a stream whose HEADERS do not come in time, and closes the connection on bytes Netty's frame
 * codec fails on without an HTTP/3 error. A request answered before its body ended is not reset by what is left
 * of it ({@link Http3AnsweredRequestGuard}). As few handlers as that: each is added, removed and walked per
 * request.
 *
 * <p>Not a {@code ChannelInitializer}: that one keeps each context in a concurrent set while it initializes and,
 * since a context is not yet marked removed inside its own {@code handlerRemoved}, schedules a task per stream
 * to take it out again. Here the handler puts the stream's handlers in place when it is added (Netty calls that
 * once the stream is registered) and hands its own place to the guard.
 */
@ChannelHandler.Sharable
final class Http3StreamInitializer extends ChannelHandlerAdapter {
    private final ListenerContext context;
    private final Http3ConnectionGuard guard;
    private final long retryAfterSeconds;
    private final long maxFieldSection;

    /** {@code maxFieldSection}: our SETTINGS_MAX_FIELD_SECTION_SIZE. */
    Http3StreamInitializer(ListenerContext context, Http3ConnectionGuard guard, long retryAfterSeconds,
                           long maxFieldSection) {
        this.context = context;
        this.guard = guard;
        this.retryAfterSeconds = retryAfterSeconds;
        this.maxFieldSection = maxFieldSection;
    }

    @Override
    public boolean isSharable() {
        return true; // without asking Netty's per-thread cache of the annotation, once per stream
    }

    /**
     * Puts the handlers of a new request stream of h3relay's own ({@link Http3ConnectionGuard#bypass}) in its
     * pipeline before Netty registers it; a stream to refuse gets this handler, which refuses it once registered.
     */
    void install(QuicStreamChannel ch) {
        if (!guard.streamOpened(ch)) {
            ch.pipeline().addLast(this);
            return;
        }
        addHandlers(ch, null);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        QuicStreamChannel ch = (QuicStreamChannel) ctx.channel();
        if (!guard.streamOpened(ch)) {
            ctx.pipeline().remove(this);
            ch.shutdown(Http3ErrorCode.H3_REQUEST_REJECTED.code());
            ch.close();
            return;
        }
        addHandlers(ch, this);
    }

    /** The stream's handlers, the first in {@code replacing}'s place (when not null). */
    private void addHandlers(QuicStreamChannel ch, ChannelHandler replacing) {
        ChannelPipeline pipeline = ch.pipeline();
        boolean ownCodec = context.config().http3().qpackMaxTableCapacity() == 0;
        // Next to the stream: one buffer per flush, the FIN riding with the last data; the connection's packets
        // built once per event-loop turn for all its streams (with QPACK's dynamic table off, the default)
        Http3StreamWriteCoalescer coalescer = new Http3StreamWriteCoalescer(ownCodec);
        Consumer<ChannelPipeline> onRequestStopped;
        if (ownCodec) {
            // h3relay's own frames and QPACK (static table): one handler, the coalescer in it
            ch.config().setReadFrames(true);
            Http3RequestStream stream = new Http3RequestStream(maxFieldSection,
                    context.limits().requestHeadersTimeout().toNanos(), guard, coalescer);
            addInPlaceOf(pipeline, replacing, "h3-stream", stream);
            onRequestStopped = p -> stream.requestStopped();
        } else {
            pipeline.addFirst("h3-write-coalesce", coalescer);
            // First behind Netty's codec (in this handler's place): decode failures, the head timeout, malformed
            // requests, stopped streams.
            addInPlaceOf(pipeline, replacing, "h3-stream-guard", new Http3RequestStreamGuard(
                    context.limits().requestHeadersTimeout().toNanos(), guard));
            pipeline.addLast("h3-to-http", new Http3FrameToHttpObjectCodec(true, true));
            // A complete early answer is not reset by the rest of the request: a guard in front of Netty's
            // request validation, put there when the session stops the rest.
            onRequestStopped = Http3AnsweredRequestGuard::install;
        }
        // Opened before the handshake completed: the request arrived in 0-RTT early data (RFC 8470).
        if (!ch.parent().isActive() && context.config().http3().zeroRtt()) {
            pipeline.addLast("h3-early-data", new Http3EarlyData(context.config().http3().zeroRttUnsafe(), guard,
                    context.connectionObserver()));
        }
        // On h3relay's own streams the codec ends the response (the FIN on its last bytes): no coalescer for
        // the session
        pipeline.addLast("session", new Http3StreamSession(context, context.exchanges(), retryAfterSeconds,
                ownCodec ? null : coalescer, onRequestStopped));
    }

    /** {@code h} in {@code replacing}'s place, or at the end when there is none (a stream not yet registered). */
    private static void addInPlaceOf(ChannelPipeline pipeline, ChannelHandler replacing, String name,
                                     ChannelHandler h) {
        if (replacing != null) {
            pipeline.replace(replacing, name, h);
        } else {
            pipeline.addLast(name, h);
        }
    }
}
