package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.config.ClusterConfig;
import io.h3relay.config.ClusterConfig.HashOn;
import io.h3relay.config.ClusterConfig.LoadBalancerKind;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Builds the load balancer a cluster's config names over one immutable snapshot of endpoints. Health
 * changes publish a new snapshot and the cluster builds a new balancer: instances never change their
 * endpoint set, which is what lets them pick without locks.
 *
 * <p>The named factories live on {@link LoadBalancer} ({@code LoadBalancer.roundRobin(list)} …); this class
 * maps config to them and holds the package-private variants with an injectable random source for tests.
 */
public final class LoadBalancerFactory {
    /** Each event loop thread draws from its own generator: no shared state, no contention. */
    static final Supplier<RandomGenerator> THREAD_LOCAL_RANDOM = ThreadLocalRandom::current;

    private static final LoadBalancer EMPTY = (context, exclude) -> null;

    private LoadBalancerFactory() {
    }

    /** The balancer for {@code cluster}'s load_balancer setting over {@code snapshot}. */
    public static LoadBalancer forCluster(ClusterConfig cluster, List<Endpoint> snapshot) {
        return create(cluster.loadBalancer(), snapshot, cluster.hashOn());
    }

    /**
     * The balancer of {@code kind} over {@code snapshot}. {@code hashOn} is required for RING_HASH and
     * MAGLEV and ignored otherwise. An empty snapshot gives a balancer that always picks null.
     */
    public static LoadBalancer create(LoadBalancerKind kind, List<Endpoint> snapshot, HashOn hashOn) {
        return create(kind, snapshot, hashOn, THREAD_LOCAL_RANDOM);
    }

    static LoadBalancer create(LoadBalancerKind kind, List<Endpoint> snapshot, HashOn hashOn,
                               Supplier<? extends RandomGenerator> random) {
        Objects.requireNonNull(kind, "kind");
        List<Endpoint> endpoints = List.copyOf(snapshot);
        if (kind == LoadBalancerKind.RING_HASH || kind == LoadBalancerKind.MAGLEV) {
            // Checked even for an empty snapshot: a missing hashOn is a config bug, not a health state.
            Objects.requireNonNull(hashOn, () -> kind.configName() + " needs hashOn");
        }
        if (endpoints.isEmpty()) {
            return EMPTY;
        }
        return switch (kind) {
            case ROUND_ROBIN -> new RoundRobinLoadBalancer(endpoints);
            case WEIGHTED_ROUND_ROBIN -> new WeightedRoundRobinLoadBalancer(endpoints, random);
            case LEAST_REQUEST -> new LeastRequestLoadBalancer(endpoints, random);
            case RANDOM -> new RandomLoadBalancer(endpoints, random);
            case RING_HASH -> new RingHashLoadBalancer(endpoints, hashOn, random);
            case MAGLEV -> new MaglevLoadBalancer(endpoints, hashOn, random);
        };
    }
}
