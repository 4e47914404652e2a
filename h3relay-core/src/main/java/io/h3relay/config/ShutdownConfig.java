package io.h3relay.config;

import java.time.Duration;

/**
 * How a stop drains: for {@code drainDelay} the proxy only reports itself not ready ({@code /readyz} 503) and
 * keeps serving, so load balancers take it out first; then in-flight exchanges may finish for
 * {@code drainTimeout}, and clients arriving meanwhile get 503 with {@code Retry-After: retryAfter}.
 */
public record ShutdownConfig(Duration drainDelay, Duration drainTimeout, Duration retryAfter) {
    public static ShutdownConfig defaults() {
        return new ShutdownConfig(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(1));
    }
}
