package io.h3relay.balancer;

import io.h3relay.cluster.Endpoint;

import java.util.Set;

/**
 * Picks an endpoint for one attempt. An instance is built over one immutable snapshot of endpoints
 * (see {@link LoadBalancerFactory}) and is called concurrently from every event loop, so it never locks.
 */
public interface LoadBalancer {

    /**
     * Picks an endpoint not in {@code exclude} (endpoints already tried by this exchange), falling back to
     * an excluded one when nothing else is left. Returns null only when the snapshot is empty.
     */
    Endpoint pick(PickContext context, Set<Endpoint> exclude);
}
