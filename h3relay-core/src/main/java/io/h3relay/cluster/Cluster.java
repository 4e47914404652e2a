package io.h3relay.cluster;

import io.h3relay.balancer.LoadBalancer;
import io.h3relay.balancer.PickContext;
import io.h3relay.config.ClusterConfig;
import io.h3relay.listener.tls.TlsConfigException;
import io.h3relay.server.Transport;
import io.netty.handler.ssl.SslContext;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A named set of endpoints with one load balancer and a connection pool per endpoint. Built from the
 * frozen {@link ClusterConfig}; the balancer reads an immutable endpoint snapshot without locks.
 */
public final class Cluster {
    private final ClusterConfig config;
    private final List<Endpoint> endpoints;
    private final Map<Endpoint, EndpointPool> pools;
    private volatile LoadBalancer balancer;

    private Cluster(ClusterConfig config, List<Endpoint> endpoints, Map<Endpoint, EndpointPool> pools) {
        this.config = config;
        this.endpoints = List.copyOf(endpoints);
        this.pools = pools;
        this.balancer = LoadBalancer.create(config.loadBalancer(), this.endpoints, config.hashOn());
    }

    public static Cluster create(ClusterConfig config, Transport transport) throws TlsConfigException {
        SslContext tls = config.tls() == null ? null : UpstreamTlsContexts.build(config.tls());
        UpstreamConnector connector = new UpstreamConnector(transport, config, tls);
        List<Endpoint> endpoints = new ArrayList<>();
        Map<Endpoint, EndpointPool> pools = new IdentityHashMap<>();
        for (ClusterConfig.EndpointConfig ec : config.endpoints()) {
            Endpoint ep = new Endpoint(ec.address(), ec.weight());
            endpoints.add(ep);
            pools.put(ep, new EndpointPool(ep, config.pool(), connector));
        }
        return new Cluster(config, endpoints, Collections.unmodifiableMap(pools));
    }

    public String name() {
        return config.name();
    }

    public ClusterConfig config() {
        return config;
    }

    public List<Endpoint> endpoints() {
        return endpoints;
    }

    /** An endpoint for the next attempt, avoiding {@code exclude} when possible; null when none exist. */
    public Endpoint pick(PickContext context, Set<Endpoint> exclude) {
        return balancer.pick(context, exclude);
    }

    public EndpointPool pool(Endpoint endpoint) {
        return pools.get(endpoint);
    }

    public void close() {
        pools.values().forEach(EndpointPool::close);
    }
}
