package io.h3relay.config;

/** The {@code policies.auth} block (placeholder of the policies skeleton). */
public record AuthConfig() {
}
