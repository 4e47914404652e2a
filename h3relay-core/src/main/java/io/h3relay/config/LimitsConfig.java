package io.h3relay.config;

import java.time.Duration;

/**
 * Per-listener limits; each maps to one status on every protocol: body 413, request line 414,
 * headers 431, header timeout 408. {@code maxRequestBodySize} 0 means unlimited.
 *
 * <p>Long-lived streams: a WebSocket ends after {@code websocketIdleTimeout} without a byte either way and
 * after {@code maxWebsocketDuration} in all (zero: no limit); a streamed response (SSE) ends after
 * {@code streamIdleTimeout} without a byte from the endpoint, whatever the route's {@code timeout}.
 *
 * <p>{@code maxConnectionsPerClient}: connections at once from one client address (TCP and QUIC counted
 * together, per listener); 0 means no limit. {@code sendTimeout}: a response whose client takes none of it
 * (h1: the socket stays unwritable; h2/h3: the stream's flow-control window stays shut) for this long is
 * cut off (h1 close, h2/h3 reset), so a slow reader cannot hold an upstream connection for ever.
 */
public record LimitsConfig(
        long maxRequestBodySize,
        int maxRequestLineSize,
        int maxRequestHeadersSize,
        Duration keepAliveTimeout,
        Duration requestHeadersTimeout,
        int maxConcurrentStreams,
        int maxConnections,
        Duration websocketIdleTimeout,
        Duration maxWebsocketDuration,
        Duration streamIdleTimeout,
        int maxConnectionsPerClient,
        Duration sendTimeout) {

    /** nginx's send_timeout default: a client that takes nothing of its response for this long is cut off. */
    public static final Duration DEFAULT_SEND_TIMEOUT = Duration.ofSeconds(60);

    /** Without a per-client connection limit, with the default send timeout. */
    public LimitsConfig(long maxRequestBodySize, int maxRequestLineSize, int maxRequestHeadersSize,
                        Duration keepAliveTimeout, Duration requestHeadersTimeout, int maxConcurrentStreams,
                        int maxConnections, Duration websocketIdleTimeout, Duration maxWebsocketDuration,
                        Duration streamIdleTimeout) {
        this(maxRequestBodySize, maxRequestLineSize, maxRequestHeadersSize, keepAliveTimeout, requestHeadersTimeout,
                maxConcurrentStreams, maxConnections, websocketIdleTimeout, maxWebsocketDuration, streamIdleTimeout, 0,
                DEFAULT_SEND_TIMEOUT);
    }

    public static LimitsConfig defaults() {
        return new LimitsConfig(8L << 20, 16 << 10, 32 << 10, Duration.ofMinutes(2), Duration.ofSeconds(15),
                256, 100_000, Duration.ofMinutes(5), Duration.ZERO, Duration.ofMinutes(5), 0, DEFAULT_SEND_TIMEOUT);
    }
}
