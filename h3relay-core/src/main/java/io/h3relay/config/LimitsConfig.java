package io.h3relay.config;

import java.time.Duration;

/**
 * Per-listener limits; each maps to one status on every protocol: body 413, request line 414,
 * headers 431, header timeout 408. {@code maxRequestBodySize} 0 means unlimited.
 */
public record LimitsConfig(
        long maxRequestBodySize,
        int maxRequestLineSize,
        int maxRequestHeadersSize,
        Duration keepAliveTimeout,
        Duration requestHeadersTimeout,
        int maxConcurrentStreams,
        int maxConnections) {

    public static LimitsConfig defaults() {
        return new LimitsConfig(8L << 20, 16 << 10, 32 << 10, Duration.ofMinutes(2), Duration.ofSeconds(15),
                256, 100_000);
    }
}
