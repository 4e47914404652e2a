package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;

import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * round_robin: endpoints in snapshot order, one after another, ignoring weights. One atomic counter is
 * shared by all event loops; a long cannot wrap in practice, so the order never skips at overflow.
 */
final class RoundRobinLoadBalancer implements LoadBalancer {
    private final Endpoint[] endpoints;
    private final AtomicLong next = new AtomicLong();

    RoundRobinLoadBalancer(List<Endpoint> snapshot) {
        this.endpoints = snapshot.toArray(new Endpoint[0]);
    }

    @Override
    public Endpoint pick(PickContext context, Set<Endpoint> exclude) {
        Endpoint first = endpoints[turn()];
        if (exclude.isEmpty() || !exclude.contains(first)) {
            return first;
        }
        // A retry takes further turns of the shared counter rather than the excluded endpoint's neighbour:
        // retries away from a failing endpoint then spread over all the others instead of doubling the load
        // on the next one. n - 1 more turns visit every other endpoint (fewer when other loops take turns too,
        // hence the scan below).
        for (int k = 1; k < endpoints.length; k++) {
            Endpoint candidate = endpoints[turn()];
            if (!exclude.contains(candidate)) {
                return candidate;
            }
        }
        for (Endpoint candidate : endpoints) {
            if (!exclude.contains(candidate)) {
                return candidate;
            }
        }
        return first;
    }

    private int turn() {
        return (int) Math.floorMod(next.getAndIncrement(), (long) endpoints.length);
    }
}
