package io.h3relay.config;

import java.time.Duration;

/** How a stop drains: in-flight exchanges may finish for {@code drainTimeout}. */
public record ShutdownConfig(Duration drainTimeout, Duration retryAfter) {
    public static ShutdownConfig defaults() {
        return new ShutdownConfig(Duration.ofSeconds(30), Duration.ofSeconds(1));
    }
}
