package io.h3relay.policy.ratelimit;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Token buckets in this process, one per key, shared by every event loop (so the total is right however
 * the connections spread over the loops), as GCRA: each key holds its bucket's "theoretical arrival time"
 * in one {@link AtomicLong}, and a request is one compare-and-set. An idle key's bucket refills to full,
 * which is the same as no entry: {@link #sweep} drops those.
 */
public final class LocalBuckets implements Buckets {
    private final long interval;
    private final long tau;
    private final ConcurrentHashMap<Object, AtomicLong> tats = new ConcurrentHashMap<>();

    LocalBuckets(double requestsPerSecond, int burst) {
        this.interval = Math.max(1, Math.round(1e9 / requestsPerSecond));
        this.tau = interval * (long) burst;
    }

    /**
     * Takes a token for {@code key} at {@code now} (nanoTime). Returns the bucket's debt in nanoseconds after
     * the take (>= 0: admitted; the bucket is full again that much later), or minus the wait until a token
     * is there (< 0: refused).
     */
    long acquire(Object key, long now) {
        AtomicLong tat = tats.get(key);
        if (tat == null) {
            tat = tats.computeIfAbsent(key, k -> new AtomicLong(Long.MIN_VALUE));
        }
        while (true) {
            long old = tat.get();
            long base = old == Long.MIN_VALUE || old - now < 0 ? now : old;
            long next = base + interval;
            long debt = next - now;
            if (debt > tau) {
                return -(debt - tau);
            }
            if (tat.compareAndSet(old, next)) {
                return debt;
            }
        }
    }

    @Override
    public long interval() {
        return interval;
    }

    @Override
    public long tau() {
        return tau;
    }

    /** Drops the buckets that are full again at {@code now}. */
    void sweep(long now) {
        tats.entrySet().removeIf(e -> {
            long t = e.getValue().get();
            return t == Long.MIN_VALUE || t - now <= 0;
        });
    }

    int size() {
        return tats.size();
    }
}
