package io.h3relay.config;

/** The {@code policies.ip_rules} block (placeholder of the policies skeleton). */
public record IpRulesConfig() {
}
