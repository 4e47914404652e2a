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
 * together, per listener); 0 means no limit.
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
        int maxConnectionsPerClient) {

    /** Without a per-client connection limit. */
    public LimitsConfig(long maxRequestBodySize, int maxRequestLineSize, int maxRequestHeadersSize,
                        Duration keepAliveTimeout, Duration requestHeadersTimeout, int maxConcurrentStreams,
                        int maxConnections, Duration websocketIdleTimeout, Duration maxWebsocketDuration,
                        Duration streamIdleTimeout) {
        this(maxRequestBodySize, maxRequestLineSize, maxRequestHeadersSize, keepAliveTimeout, requestHeadersTimeout,
                maxConcurrentStreams, maxConnections, websocketIdleTimeout, maxWebsocketDuration, streamIdleTimeout, 0);
    }

    public static LimitsConfig defaults() {
        return new LimitsConfig(8L << 20, 16 << 10, 32 << 10, Duration.ofMinutes(2), Duration.ofSeconds(15),
                256, 100_000, Duration.ofMinutes(5), Duration.ZERO, Duration.ofMinutes(5), 0);
    }
}
