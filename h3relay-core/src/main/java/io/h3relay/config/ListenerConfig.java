package io.h3relay.config;

import java.util.List;
import java.util.Set;

/**
 * One address we accept on. {@code tls} is null for a plaintext listener; {@code routes} names the
 * routes this listener uses, in order (the loader fills it with every route when the key is absent).
 */
public record ListenerConfig(
        String name,
        HostPort address,
        Set<Protocol> protocols,
        TlsServerConfig tls,
        Http3Config http3,
        LimitsConfig limits,
        List<String> routes) {

    public ListenerConfig {
        protocols = Set.copyOf(protocols);
        routes = List.copyOf(routes);
    }

    public boolean isTls() {
        return tls != null;
    }
}
