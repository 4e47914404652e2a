package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;

import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * random: each endpoint is picked with probability weight / total weight. Stateless apart from the
 * snapshot, so concurrent picks share nothing; randomness comes from the calling thread's
 * ThreadLocalRandom (tests inject a seeded generator).
 */
final class RandomLoadBalancer implements LoadBalancer {
    private final WeightedEndpoints endpoints;
    private final Supplier<? extends RandomGenerator> random;

    RandomLoadBalancer(List<Endpoint> snapshot, Supplier<? extends RandomGenerator> random) {
        this.endpoints = new WeightedEndpoints(snapshot);
        this.random = random;
    }

    @Override
    public Endpoint pick(PickContext context, Set<Endpoint> exclude) {
        RandomGenerator rnd = random.get();
        int index = endpoints.weightedIndex(rnd);
        if (!endpoints.isExcluded(index, exclude)) {
            return endpoints.get(index);
        }
        // A retry drew an endpoint it already tried: draw again among the rest, keeping their proportions.
        int other = endpoints.weightedIndexAllowed(exclude, -1, rnd);
        return endpoints.get(other >= 0 ? other : index);
    }
}
