package io.h3relay.config;

/** The {@code policies.cors} block (placeholder of the policies skeleton). */
public record CorsConfig() {
}
