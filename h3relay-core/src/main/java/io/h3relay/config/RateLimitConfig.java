package io.h3relay.config;

import java.time.Duration;

/**
 * {@code policies.rate_limit}: a token bucket per key, refilled at {@code requestsPerSecond} up to
 * {@code burst} tokens; one token per request. {@code dryRun}: decisions are counted, nothing is refused
 * and no header is added. {@code shared} null: the buckets are this process's (one per key, shared by every
 * event loop); else they live in Redis, shared by every instance.
 */
public record RateLimitConfig(String name, double requestsPerSecond, int burst, Key key, boolean dryRun,
                              boolean headers, Shared shared) {

    /** What a bucket is per: the client address, a request header's value, a JWT claim, or the whole route. */
    public sealed interface Key permits ClientKey, HeaderKey, ClaimKey, RouteKey {}

    public record ClientKey() implements Key {}

    /** Requests without the header fall back to the client address. */
    public record HeaderKey(String header) implements Key {}

    /** Requests without the claim (no verified JWT) fall back to the client address. */
    public record ClaimKey(String claim) implements Key {}

    public record RouteKey() implements Key {}

    /**
     * Buckets in Redis ({@code redis://[user:password@]host:port[/db]}), each call bounded by {@code timeout};
     * when Redis fails or is late, {@code failOpen} admits the request, else it is refused.
     */
    public record Shared(String redisUri, Duration timeout, boolean failOpen, String prefix) {}
}
