package io.h3relay.config;

/** The admin listener (HTTP/1.1, plaintext): health, readiness and, later, metrics and the admin API. */
public record AdminConfig(HostPort address) {
    public static final HostPort DEFAULT_ADDRESS = new HostPort("127.0.0.1", 9901);
}
