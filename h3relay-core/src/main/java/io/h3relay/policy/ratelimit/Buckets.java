package io.h3relay.policy.ratelimit;

/** What a rate limit's buckets share: the refill interval per token and the burst, both in nanoseconds. */
public interface Buckets {
    /** Nanoseconds per token. */
    long interval();

    /** Burst tolerance: {@code burst * interval}. */
    long tau();
}
