package io.h3relay.config;

import java.util.List;
import java.util.Optional;

/**
 * The whole configuration, frozen: parsed and validated once by {@link ConfigLoader}, then only read.
 * Every record in this package is immutable; collections are unmodifiable copies.
 */
public record RelayConfig(
        AdminConfig admin,
        List<ListenerConfig> listeners,
        List<RouteConfig> routes,
        List<ClusterConfig> clusters,
        ObservabilityConfig observability,
        ShutdownConfig shutdown) {

    public RelayConfig {
        listeners = List.copyOf(listeners);
        routes = List.copyOf(routes);
        clusters = List.copyOf(clusters);
    }

    public Optional<ClusterConfig> cluster(String name) {
        return clusters.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    public Optional<RouteConfig> route(String name) {
        return routes.stream().filter(r -> r.name().equals(name)).findFirst();
    }
}
