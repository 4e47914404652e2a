package io.h3relay.config;

/** The {@code policies.rate_limit} block (placeholder of the policies skeleton). */
public record RateLimitConfig() {
}
