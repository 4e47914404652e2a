package io.h3relay.policy.cache;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The stores of one runtime snapshot, one per route with a cache policy (per listener it is reached from):
 * what the admin API purges and reports, and what the metrics read.
 */
public final class CacheRegistry {
    private final List<HttpCache> caches = new CopyOnWriteArrayList<>();

    public HttpCache add(HttpCache cache) {
        caches.add(cache);
        return cache;
    }

    public List<HttpCache> caches() {
        return List.copyOf(caches);
    }

    /** Purges in every store (see {@link HttpCache#purge}); returns the keys removed. */
    public int purge(String host, String path, String prefix) {
        int n = 0;
        for (HttpCache c : caches) {
            n += c.purge(host, path, prefix);
        }
        return n;
    }
}
