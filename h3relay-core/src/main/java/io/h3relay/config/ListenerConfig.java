package io.h3relay.config;

import java.util.List;
import java.util.Set;

/**
 * One address we accept on. {@code tls} is null for a plaintext listener; {@code routes} names the
 * routes this listener uses, in order (the loader fills it with every route when the key is absent);
 * {@code policies} are the defaults of those routes' policies.
 */
public record ListenerConfig(
        String name,
        HostPort address,
        Set<Protocol> protocols,
        TlsServerConfig tls,
        Http3Config http3,
        LimitsConfig limits,
        List<String> routes,
        PoliciesConfig policies) {

    public ListenerConfig {
        protocols = Set.copyOf(protocols);
        routes = List.copyOf(routes);
        policies = policies == null ? PoliciesConfig.NONE : policies;
    }

    /** Without policies. */
    public ListenerConfig(String name, HostPort address, Set<Protocol> protocols, TlsServerConfig tls,
                          Http3Config http3, LimitsConfig limits, List<String> routes) {
        this(name, address, protocols, tls, http3, limits, routes, PoliciesConfig.NONE);
    }

    public boolean isTls() {
        return tls != null;
    }
}
