package io.h3relay.config;

import java.time.Duration;

/**
 * A route's (or listener's default) HTTP cache ({@code policies.cache}), an in-memory RFC 9111 shared cache.
 *
 * @param maxSize         bound of the store in bytes (bodies and headers); least recently used entries go
 * @param maxObjectSize   a response with a bigger body is passed through and not stored
 * @param defaultTtl      freshness of a storable response that states none (no max-age, s-maxage or
 *                        Expires); zero: such responses are not stored
 * @param lockTimeout     how long concurrent misses of one key wait for the first one's fetch before going
 *                        upstream themselves
 */
public record CacheConfig(long maxSize, long maxObjectSize, Duration defaultTtl, Duration lockTimeout) {
    public static final long DEFAULT_MAX_SIZE = 64L << 20;
    public static final long DEFAULT_MAX_OBJECT_SIZE = 8L << 20;
    public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(5);
}
