package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.config.ClusterConfig.HashOn;
import io.h3relay.config.ClusterConfig.LoadBalancerKind;

import java.util.List;
import java.util.Set;

/**
 * Picks an endpoint for one attempt. An instance is built over one immutable snapshot of endpoints
 * (see {@link LoadBalancerFactory} and the static factories below) and is called concurrently from every
 * event loop, so it never locks.
 */
public interface LoadBalancer {

    /**
     * Picks an endpoint not in {@code exclude} (endpoints already tried by this exchange), falling back to
     * an excluded one when nothing else is left. Returns null only when the snapshot is empty.
     */
    Endpoint pick(PickContext context, Set<Endpoint> exclude);

    /** The balancer of {@code kind}; {@code hashOn} is required for ring_hash and maglev, ignored otherwise. */
    static LoadBalancer create(LoadBalancerKind kind, List<Endpoint> snapshot, HashOn hashOn) {
        return LoadBalancerFactory.create(kind, snapshot, hashOn);
    }

    /** round_robin: snapshot order, one after another; weights ignored. */
    static LoadBalancer roundRobin(List<Endpoint> snapshot) {
        return create(LoadBalancerKind.ROUND_ROBIN, snapshot, null);
    }

    /** weighted_round_robin: nginx's smooth weighted round robin, exact proportions over each cycle. */
    static LoadBalancer weightedRoundRobin(List<Endpoint> snapshot) {
        return create(LoadBalancerKind.WEIGHTED_ROUND_ROBIN, snapshot, null);
    }

    /** least_request: two random choices (by weight), the one with fewer active requests per weight wins. */
    static LoadBalancer leastRequest(List<Endpoint> snapshot) {
        return create(LoadBalancerKind.LEAST_REQUEST, snapshot, null);
    }

    /** random: weighted random. */
    static LoadBalancer random(List<Endpoint> snapshot) {
        return create(LoadBalancerKind.RANDOM, snapshot, null);
    }

    /** ring_hash: consistent hash ring over the key {@code hashOn} names; no key means a random pick. */
    static LoadBalancer ringHash(List<Endpoint> snapshot, HashOn hashOn) {
        return create(LoadBalancerKind.RING_HASH, snapshot, hashOn);
    }

    /** maglev: Maglev lookup table over the key {@code hashOn} names; no key means a random pick. */
    static LoadBalancer maglev(List<Endpoint> snapshot, HashOn hashOn) {
        return create(LoadBalancerKind.MAGLEV, snapshot, hashOn);
    }
}
