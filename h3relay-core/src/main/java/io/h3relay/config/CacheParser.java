package io.h3relay.config;

import java.time.Duration;

/**
 * {@code policies.cache}:
 * <pre>
 *   cache:
 *     max_size: 64MiB         # the store's bound in bytes
 *     max_object_size: 8MiB   # bigger bodies are passed through, not stored
 *     default_ttl: 0          # freshness of responses that state none (0: not stored)
 *     lock_timeout: 5s        # concurrent misses wait this long for the first one's fetch
 * </pre>
 */
final class CacheParser {
    private CacheParser() {}

    static CacheConfig parse(YamlMap m) {
        long maxSize = m.size("max_size", 1024, 1L << 40, CacheConfig.DEFAULT_MAX_SIZE);
        long maxObject = m.size("max_object_size", 1, 1L << 30, CacheConfig.DEFAULT_MAX_OBJECT_SIZE);
        Duration ttl = m.duration("default_ttl", Duration.ZERO);
        Duration lock = m.positiveDuration("lock_timeout", CacheConfig.DEFAULT_LOCK_TIMEOUT);
        if (m.has("max_object_size") && maxObject > maxSize) {
            m.notAllowed("max_object_size", "at most max_size (" + Sizes.format(maxSize) + ")");
        }
        m.finish();
        return new CacheConfig(maxSize, Math.min(maxObject, maxSize), ttl, lock);
    }
}
