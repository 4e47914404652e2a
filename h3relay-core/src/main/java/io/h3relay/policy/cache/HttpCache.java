package io.h3relay.policy.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.h3relay.config.CacheConfig;
import io.netty.handler.codec.http.HttpHeaders;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * One route's store: keys ({@code host + origin-form target}) to their variants (one per combination of the
 * request headers their {@code Vary} names), in a Caffeine cache bounded by the summed weight of the
 * entries in bytes; and the fetches in flight per key, which concurrent misses wait for.
 */
public final class HttpCache {
    /** Variants kept per key; a key that varies more than this keeps the newest. */
    private static final int MAX_VARIANTS = 16;

    private final String listener;
    private final String route;
    private final CacheConfig config;
    private final Cache<String, Variants> store;
    private final ConcurrentMap<String, Fetch> inflight = new ConcurrentHashMap<>();
    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder staleHits = new LongAdder();
    final LongAdder revalidated = new LongAdder();
    final LongAdder bypassed = new LongAdder();
    final LongAdder stored = new LongAdder();
    final LongAdder collapsed = new LongAdder();

    public HttpCache(String listener, String route, CacheConfig config) {
        this.listener = listener;
        this.route = route;
        this.config = config;
        this.store = Caffeine.newBuilder()
                .maximumWeight(config.maxSize())
                .weigher((String k, Variants v) -> v.weight())
                .build();
    }

    public String listener() {
        return listener;
    }

    public String route() {
        return route;
    }

    CacheConfig config() {
        return config;
    }

    /** The variant of {@code key} that {@code request} selects, or null. */
    CachedResponse lookup(String key, HttpHeaders request) {
        Variants v = store.getIfPresent(key);
        return v == null ? null : v.select(request);
    }

    /** True when {@code key} has variants, none of which {@code request} selects (Cache-Status: vary-miss). */
    boolean hasKey(String key) {
        return store.getIfPresent(key) != null;
    }

    void put(String key, CachedResponse r) {
        store.asMap().compute(key, (k, old) -> old == null ? new Variants(List.of(r)) : old.with(r));
        stored.increment();
    }

    void remove(String key) {
        store.invalidate(key);
    }

    /** Starts the one fetch of {@code key}; null when one is already in flight (returned by {@link #inflight}). */
    Fetch startFetch(String key) {
        Fetch f = new Fetch(key);
        return inflight.putIfAbsent(key, f) == null ? f : null;
    }

    Fetch inflight(String key) {
        return inflight.get(key);
    }

    void fetchEnded(Fetch f) {
        inflight.remove(f.key, f);
    }

    /**
     * Removes entries: {@code path} exact (with {@code host}, or on every host), or every key whose target
     * starts with {@code prefix}, or all when both are null. Returns how many keys went.
     */
    public int purge(String host, String path, String prefix) {
        int n = 0;
        String h = host == null ? null : host.toLowerCase(Locale.ROOT);
        for (String key : new ArrayList<>(store.asMap().keySet())) {
            int sp = key.indexOf(' ');
            String keyHost = key.substring(0, sp);
            String target = key.substring(sp + 1);
            String keyPath = target.indexOf('?') < 0 ? target : target.substring(0, target.indexOf('?'));
            boolean hostOk = h == null || keyHost.equals(h) || keyHost.startsWith(h + ":");
            boolean match = path != null ? (keyPath.equals(path) || target.equals(path))
                    : prefix == null || target.startsWith(prefix);
            if (hostOk && match && store.asMap().remove(key) != null) {
                n++;
            }
        }
        return n;
    }

    public long entries() {
        return store.estimatedSize();
    }

    public long bytes() {
        return store.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    /** Counters by result: hit, miss, stale (served stale), revalidated, bypass, stored, collapsed. */
    public java.util.Map<String, Long> counters() {
        java.util.Map<String, Long> m = new java.util.LinkedHashMap<>();
        m.put("hit", hits.sum());
        m.put("miss", misses.sum());
        m.put("stale", staleHits.sum());
        m.put("revalidated", revalidated.sum());
        m.put("bypass", bypassed.sum());
        m.put("stored", stored.sum());
        m.put("collapsed", collapsed.sum());
        return m;
    }

    /** The cache key of a request: lowercase host and the origin-form target. */
    static String key(String authority, String target) {
        String t = target;
        if (t != null && !t.startsWith("/")) {
            int scheme = t.indexOf("://");
            if (scheme > 0) {
                int slash = t.indexOf('/', scheme + 3);
                t = slash < 0 ? "/" : t.substring(slash);
            }
        }
        String host = authority == null ? "" : authority.toLowerCase(Locale.ROOT);
        return host + " " + t;
    }

    /** The variants of one key (copy on write). */
    record Variants(List<CachedResponse> list) {
        CachedResponse select(HttpHeaders request) {
            for (CachedResponse r : list) {
                if (r.matches(request)) {
                    return r;
                }
            }
            return null;
        }

        Variants with(CachedResponse r) {
            List<CachedResponse> out = new ArrayList<>(list.size() + 1);
            out.add(r);
            for (CachedResponse o : list) {
                if (!o.sameVariant(r) && out.size() < MAX_VARIANTS) {
                    out.add(o);
                }
            }
            return new Variants(List.copyOf(out));
        }

        int weight() {
            long w = 0;
            for (CachedResponse r : list) {
                w += r.weight();
            }
            return (int) Math.min(Integer.MAX_VALUE, w);
        }
    }
}
