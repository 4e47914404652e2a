package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;

import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * least_request: the power of two choices. Draw two distinct endpoints at random and take the one with
 * fewer active requests per unit of weight. Scanning every endpoint for the global minimum would make
 * all event loops herd onto the same endpoint between counter updates; two random choices avoid the herd
 * and still almost never pick a busy endpoint (the busiest one is never picked at all).
 *
 * <p>Weights: both candidates are drawn by weight (the second among the rest), and load is compared as
 * {@code active / weight} (cross-multiplied, no division). Ties keep the first candidate, so an idle
 * cluster is picked exactly like weighted random, and a loaded one converges to active requests in
 * proportion to weight.
 *
 * <p>Threading: activeRequests are atomics updated by exchanges on any event loop; reading two slightly
 * stale values is fine, the choice only has to be good, not exact.
 */
final class LeastRequestLoadBalancer implements LoadBalancer {
    private final WeightedEndpoints endpoints;
    private final Supplier<? extends RandomGenerator> random;

    LeastRequestLoadBalancer(List<Endpoint> snapshot, Supplier<? extends RandomGenerator> random) {
        this.endpoints = new WeightedEndpoints(snapshot);
        this.random = random;
    }

    @Override
    public Endpoint pick(PickContext context, Set<Endpoint> exclude) {
        if (endpoints.size() == 1) {
            return endpoints.get(0);
        }
        RandomGenerator rnd = random.get();
        if (!exclude.isEmpty() && !endpoints.allExcluded(exclude)) {
            return pickAllowed(exclude, rnd);
        }
        // No exclusions, or every endpoint already tried: choose among all of them.
        int first = endpoints.weightedIndex(rnd);
        int second = endpoints.weightedIndexOtherThan(first, rnd);
        return endpoints.get(lessLoaded(first, second));
    }

    /** A retry: the same two choices, drawn only among untried endpoints (O(n), retries are rare). */
    private Endpoint pickAllowed(Set<Endpoint> exclude, RandomGenerator rnd) {
        int first = endpoints.weightedIndexAllowed(exclude, -1, rnd);
        int second = endpoints.weightedIndexAllowed(exclude, first, rnd);
        return endpoints.get(second < 0 ? first : lessLoaded(first, second));
    }

    private int lessLoaded(int first, int second) {
        // first.active / first.weight > second.active / second.weight, without division.
        long firstLoad = (long) endpoints.get(first).activeRequests() * endpoints.weight(second);
        long secondLoad = (long) endpoints.get(second).activeRequests() * endpoints.weight(first);
        return secondLoad < firstLoad ? second : first;
    }
}
