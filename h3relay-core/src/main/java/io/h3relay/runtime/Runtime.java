package io.h3relay.runtime;

import io.h3relay.cluster.Cluster;
import io.h3relay.config.ListenerConfig;
import io.h3relay.config.RelayConfig;
import io.h3relay.config.RouteConfig;
import io.h3relay.exchange.ExchangeObserver;
import io.h3relay.filter.FilterChain;
import io.h3relay.policy.PolicyChains;
import io.h3relay.policy.PolicyMetrics;
import io.h3relay.route.Route;
import io.h3relay.route.RouteTable;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * What the proxy serves with, built whole from one frozen config and swapped whole ({@link RuntimeHolder}):
 * the clusters in service and each listener's part (routes compiled against exactly these clusters, request
 * limits, observers, filters). Immutable; an exchange captures its listener's part once and keeps it to the end, so
 * an exchange in flight during a swap finishes on the routes and clusters it started with.
 *
 * @param generation 1 for the config the server started with, +1 per applied config
 * @param config     the config this runtime was built from
 * @param clusters   the clusters in service, by name, in config order
 * @param listeners  each listener's part, by listener name
 * @param policies   what this snapshot's policies hold open (closed when it retires)
 */
public record Runtime(long generation, RelayConfig config, Map<String, Cluster> clusters,
                      Map<String, ListenerRuntime> listeners, PolicyChains policies) {

    public Runtime {
        clusters = Collections.unmodifiableMap(new LinkedHashMap<>(clusters));
        listeners = Map.copyOf(listeners);
    }

    /**
     * Compiles every listener's route table against {@code clusters} (which must hold every cluster the routes
     * name: the config loader checked the names).
     *
     * @param observers each listener's exchange observer factory (telemetry is built once per process)
     * @param filters   each listener's filter chain; a route with policies (its own over the listener's
     *                  defaults) gets that chain followed by its policies' filters
     */
    public static Runtime build(long generation, RelayConfig config, Map<String, Cluster> clusters,
                                Function<String, ExchangeObserver.Factory> observers,
                                Function<String, FilterChain> filters) {
        return build(generation, config, clusters, observers, filters, new PolicyMetrics());
    }

    /** @param policyMetrics the server's policy counters, kept across snapshots */
    public static Runtime build(long generation, RelayConfig config, Map<String, Cluster> clusters,
                                Function<String, ExchangeObserver.Factory> observers,
                                Function<String, FilterChain> filters, PolicyMetrics policyMetrics) {
        Map<String, RouteConfig> routes = new LinkedHashMap<>();
        for (RouteConfig rc : config.routes()) {
            routes.putIfAbsent(rc.name(), rc);
        }
        Map<String, ListenerRuntime> listeners = new LinkedHashMap<>();
        PolicyChains policies = new PolicyChains(policyMetrics);
        try {
            for (ListenerConfig lc : config.listeners()) {
                RouteTable table = RouteTable.compile(lc.routes(), routes, clusters);
                FilterChain listenerChain = filters.apply(lc.name());
                Map<Route, FilterChain> routeChains = new IdentityHashMap<>();
                for (Route r : table.routes()) {
                    FilterChain own = policies.compile(new PolicyChains.Scope(lc.name(), r.name(), lc.isTls()),
                            routes.get(r.name()).policies().over(lc.policies()));
                    if (!own.isEmpty()) {
                        routeChains.put(r, listenerChain.then(own));
                    }
                }
                listeners.put(lc.name(), new ListenerRuntime(lc.name(), lc.isTls(), lc.limits(), table,
                        observers.apply(lc.name()), listenerChain, routeChains,
                        lc.trustedProxies().isEmpty() ? TrustedProxies.NONE : new TrustedProxies(lc.trustedProxies())));
            }
        } catch (RuntimeException e) {
            policies.close();
            throw e;
        }
        return new Runtime(generation, config, clusters, listeners, policies);
    }

    /** A listener's part; throws for a name this runtime has no listener of. */
    public ListenerRuntime listener(String name) {
        ListenerRuntime l = listeners.get(name);
        if (l == null) {
            throw new IllegalArgumentException("no listener " + name + " in runtime " + generation);
        }
        return l;
    }
}
