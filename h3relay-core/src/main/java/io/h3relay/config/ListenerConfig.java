package io.h3relay.config;

import java.util.List;
import java.util.Set;

/**
 * One address we accept on. {@code tls} is null for a plaintext listener; {@code routes} names the
 * routes this listener uses, in order (the loader fills it with every route when the key is absent);
 * {@code policies} are the defaults of those routes' policies. {@code proxyProtocol}: every TCP connection
 * starts with a PROXY protocol v1/v2 header whose source becomes the client address; {@code trustedProxies}:
 * a peer in these networks has the client address taken from X-Forwarded-For.
 */
public record ListenerConfig(
        String name,
        HostPort address,
        Set<Protocol> protocols,
        TlsServerConfig tls,
        Http3Config http3,
        LimitsConfig limits,
        List<String> routes,
        PoliciesConfig policies,
        boolean proxyProtocol,
        List<Cidr> trustedProxies) {

    public ListenerConfig {
        protocols = Set.copyOf(protocols);
        routes = List.copyOf(routes);
        policies = policies == null ? PoliciesConfig.NONE : policies;
        trustedProxies = List.copyOf(trustedProxies);
    }

    /** Without policies. */
    public ListenerConfig(String name, HostPort address, Set<Protocol> protocols, TlsServerConfig tls,
                          Http3Config http3, LimitsConfig limits, List<String> routes) {
        this(name, address, protocols, tls, http3, limits, routes, PoliciesConfig.NONE, false, List.of());
    }

    public boolean isTls() {
        return tls != null;
    }
}
