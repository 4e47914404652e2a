package io.h3relay.listener.h3;

import io.h3relay.exchange.DownstreamProtocol;
import io.h3relay.listener.ListenerContext;
import io.h3relay.exchange.Http3StreamSession;
import io.h3relay.exchange.Http3StreamWriteCoalescer;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.http3.Http3FrameToHttpObjectCodec;
import io.netty.handler.codec.quic.QuicStreamChannel;

/**
 * Each HTTP/3 request stream becomes a channel with the same proxy handler as an h2 stream, behind
 * Netty's frame-to-HttpObject adapter. Streams opened after a GOAWAY are refused (H3_REQUEST_REJECTED):
 * Netty does not do that by itself. A stream the client stopped is closed ({@link Http3StreamStopDetector}):
 * Netty does not report that either. A malformed request is reset before it becomes a request
 * ({@link Http3MalformedRequestGuard}); bytes Netty's frame codec fails on without an HTTP/3 error close the
 * connection ({@link Http3FrameDecodeFailures}). A request answered before its body ended is not reset by what
 * is left of it ({@link Http3AnsweredRequestGuard}).
 */
@ChannelHandler.Sharable
final class Http3StreamInitializer extends ChannelInitializer<QuicStreamChannel> {
    private final ListenerContext context;
    private final Http3ConnectionGuard guard;
    private final long retryAfterSeconds;

    Http3StreamInitializer(ListenerContext context, Http3ConnectionGuard guard, long retryAfterSeconds) {
        this.context = context;
        this.guard = guard;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    @Override
    protected void initChannel(QuicStreamChannel ch) {
        if (!guard.streamOpened(ch)) {
            ch.shutdown(Http3ErrorCode.H3_REQUEST_REJECTED.code());
            ch.close();
            return;
        }
        // Next to the stream: one buffer (and one datagram) per flush, the FIN riding with the last data.
        ch.pipeline().addFirst("h3-write-coalesce", new Http3StreamWriteCoalescer());
        // First behind Netty's codec: a codec failure on client bytes closes the connection.
        ch.pipeline().addLast("h3-decode-failures", new Http3FrameDecodeFailures());
        ch.pipeline().addLast("h3-head-timeout", new Http3HeadTimeout(
                context.limits().requestHeadersTimeout().toNanos()));
        ch.pipeline().addLast("h3-malformed", new Http3MalformedRequestGuard());
        ch.pipeline().addLast("h3-stop", new Http3StreamStopDetector());
        ch.pipeline().addLast("h3-errors", new Http3StreamErrors());
        ch.pipeline().addLast("h3-to-http", new Http3FrameToHttpObjectCodec(true, true));
        // Opened before the handshake completed: the request arrived in 0-RTT early data (RFC 8470).
        if (!ch.parent().isActive() && context.config().http3().zeroRtt()) {
            ch.pipeline().addLast("h3-early-data", new Http3EarlyData(context.config().http3().zeroRttUnsafe(), guard,
                    context.connectionObserver()));
        }
        ch.pipeline().addLast("h3-coalesce", new Http3RequestCoalescer());
        ch.pipeline().addLast("session", new Http3StreamSession(context, context.exchanges(), retryAfterSeconds));
        // In front of Netty's request validation: a complete early answer is not reset by the rest of the request.
        Http3AnsweredRequestGuard.install(ch.pipeline());
    }
}
