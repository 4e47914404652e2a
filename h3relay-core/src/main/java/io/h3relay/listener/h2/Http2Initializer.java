package io.h3relay.listener.h2;

import io.h3relay.config.LimitsConfig;
import io.h3relay.exchange.DownstreamProtocol;
import io.h3relay.listener.ListenerContext;
import io.h3relay.exchange.Http2Streams;
import io.h3relay.transport.Http2Codecs;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.AsciiString;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP/2 pipeline: the connection reads freely (frames for all streams); {@code h2-streams} keeps one
 * session per stream (no channel per stream), which holds its frames while the exchange does not read, so a
 * stream's flow-control window opens only as the proxy consumes its data.
 * <pre>
 *   connection: [tls] ─ h2-flush ─ h2-head-timeout ─ h2-codec ─ h2-guard (idle, drain) ─ h2-streams ─ h2-errors
 * </pre>
 */
public final class Http2Initializer {
    /** RFC 9113 default is 65,535; larger windows keep single streams fast on real links. */
    static final int STREAM_WINDOW = 256 * 1024;
    /** CVE-2023-44487 (rapid reset): more resets than this per window ends the connection. */
    static final int MAX_RST_PER_WINDOW = 200;
    static final int RST_WINDOW_SECONDS = 30;

    private Http2Initializer() {
    }

    public static void addHttp2Handlers(ChannelPipeline p, ListenerContext listener, Duration drainTimeout,
                                        long retryAfterSeconds) {
        p.channel().config().setAutoRead(true);
        LimitsConfig limits = listener.limits();
        Http2FrameCodec codec = newCodec(limits, drainTimeout);
        long idle = limits.keepAliveTimeout().toMillis();
        // Responses of many streams, read from many upstream connections in one event-loop turn, leave
        // in one write instead of one per stream.
        p.addLast("h2-flush", new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES,
                true));
        p.addLast("h2-head-timeout", new Http2HeaderBlockTimeout(limits.requestHeadersTimeout().toNanos(), true));
        p.addLast("h2-codec", codec);
        p.addLast("h2-guard", new Http2ConnectionGuard(codec, TimeUnit.MILLISECONDS.toNanos(idle)));
        p.addLast("h2-streams", streams(listener, retryAfterSeconds));
        p.addLast("h2-errors", new Http2ConnectionErrors());
    }

    /** Idle and drain handling for a connection whose codec came from an h2c Upgrade. */
    public static void addConnectionGuard(ChannelPipeline p, LimitsConfig limits) {
        Http2FrameCodec codec = p.get(Http2FrameCodec.class);
        if (codec == null) {
            return;
        }
        String codecName = p.context(codec).name();
        p.addAfter(codecName, "h2-guard", new Http2ConnectionGuard(codec, limits.keepAliveTimeout().toNanos()));
        p.addLast("h2-errors", new Http2ConnectionErrors());
    }

    public static Http2FrameCodec newCodec(LimitsConfig limits, Duration drainTimeout) {
        Http2Settings settings = Http2Settings.defaultSettings()
                .maxConcurrentStreams(limits.maxConcurrentStreams())
                .initialWindowSize(STREAM_WINDOW)
                .headerTableSize(4096)
                // RFC 8441: WebSockets over h2 streams (extended CONNECT with :protocol websocket).
                .connectProtocolEnabled(true)
                // Looser than the configured limits (the :path counts here too) so that RequestChecks
                // answers 414 / 431 with our JSON body, as on h1.
                .maxHeaderListSize(Math.min(0xFFFFFFFFL,
                        2L * ((long) limits.maxRequestHeadersSize() + limits.maxRequestLineSize())));
        return Http2Codecs.forServer()
                .initialSettings(settings)
                .headerSensitivityDetector(Http2Initializer::uniquePerResponse)
                .validateHeaders(true)
                .decoderEnforceMaxRstFramesPerWindow(MAX_RST_PER_WINDOW, RST_WINDOW_SECONDS)
                .gracefulShutdownTimeoutMillis(drainTimeout.toMillis())
                .build();
    }

    private static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    private static final AsciiString TRACEPARENT = AsciiString.cached("traceparent");

    /**
     * Fields whose value differs in every response (the request id, a trace context) go out as HPACK literals
     * that are not indexed: added to the dynamic table, each would only evict entries that are reused
     * (content-type, server, via...), and the table's insert-and-evict showed in profiles of small responses.
     */
    static boolean uniquePerResponse(CharSequence name, CharSequence value) {
        return X_REQUEST_ID.contentEqualsIgnoreCase(name) || TRACEPARENT.contentEqualsIgnoreCase(name);
    }

    /** The handler that keeps a connection's streams (one per connection, after the codec). */
    public static Http2Streams streams(ListenerContext listener, long retryAfterSeconds) {
        return new Http2Streams(listener, listener.exchanges(), retryAfterSeconds);
    }
}
