package io.h3relay.config;

import java.util.List;

/**
 * {@code policies.ip_rules}: a client address in {@code deny} is refused; otherwise, when {@code allow} is
 * not empty, only an address in it passes. At least one list is not empty.
 */
public record IpRulesConfig(List<Cidr> allow, List<Cidr> deny) {
    public IpRulesConfig {
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
    }
}
