package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;

import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * weighted_round_robin: nginx's smooth weighted round robin. Each step every endpoint's {@code current}
 * grows by its weight, the largest wins and gives back the total weight. With weights a=5, b=1, c=1
 * one cycle is {@code a a b a c a a}: exact proportions, and heavy endpoints are interleaved, not bursty.
 *
 * <p>Threading: running that algorithm live would need a lock around {@code current[]}, because every
 * pick reads and writes all of it. Instead the constructor runs one full cycle (sum of weights steps,
 * after dividing the weights by their gcd) into a table, and picks index the table with one atomic
 * counter. The sequence is then exactly nginx's, and a pick costs one getAndIncrement.
 *
 * <p>Huge weights: the cycle is capped (see {@link #cycleCap}); past the cap, weights are scaled down
 * proportionally (each kept >= 1), so proportions become approximate (within about n / cap) but the
 * table and its build time stay bounded. Building costs O(cycle * n) once per snapshot.
 */
final class WeightedRoundRobinLoadBalancer implements LoadBalancer {
    static final int MAX_CYCLE = 1 << 16;
    /** Bound on cycle * n, the build cost, so rebuilding a large cluster on a health change stays cheap. */
    static final long MAX_BUILD_STEPS = 1L << 23;

    private final Endpoint[] endpoints;
    /** One full smooth cycle: indexes into endpoints. */
    private final int[] cycle;
    private final AtomicLong next = new AtomicLong();
    /** The same endpoints by their configured weights, for retry draws. */
    private final WeightedEndpoints weighted;
    private final Supplier<? extends RandomGenerator> random;

    WeightedRoundRobinLoadBalancer(List<Endpoint> snapshot, Supplier<? extends RandomGenerator> random) {
        this.endpoints = snapshot.toArray(new Endpoint[0]);
        this.weighted = new WeightedEndpoints(snapshot);
        this.random = random;
        this.cycle = smoothCycle(reducedWeights(endpoints));
    }

    @Override
    public Endpoint pick(PickContext context, Set<Endpoint> exclude) {
        int position = (int) Math.floorMod(next.getAndIncrement(), (long) cycle.length);
        int chosen = cycle[position];
        if (!weighted.isExcluded(chosen, exclude)) {
            return endpoints[chosen];
        }
        // A retry: weighted random among the untried endpoints. Walking on in the cycle would hand every
        // retry to whoever follows the excluded endpoint's runs (with 5,1,1 and a excluded, b would get 5 of
        // 7 retries); a draw keeps the untried endpoints' proportions.
        int other = weighted.weightedIndexAllowed(exclude, -1, random.get());
        return endpoints[other >= 0 ? other : chosen];
    }

    /** The table's length, for tests. */
    int cycleLength() {
        return cycle.length;
    }

    static int cycleCap(int n) {
        return (int) Math.max(n, Math.min(MAX_CYCLE, MAX_BUILD_STEPS / n));
    }

    /** Weights divided by their gcd (5,10,15 cycles like 1,2,3), then scaled down if the sum passes the cap. */
    static long[] reducedWeights(Endpoint[] endpoints) {
        long gcd = 0;
        for (Endpoint e : endpoints) {
            gcd = gcd(gcd, e.weight());
        }
        long[] weights = new long[endpoints.length];
        long total = 0;
        for (int i = 0; i < endpoints.length; i++) {
            weights[i] = endpoints[i].weight() / gcd;
            total += weights[i];
        }
        int cap = cycleCap(endpoints.length);
        if (total > cap) {
            for (int i = 0; i < weights.length; i++) {
                weights[i] = Math.max(1, weights[i] * cap / total);
            }
        }
        return weights;
    }

    /** nginx's smooth weighted round robin, run for one cycle. Ties go to the lower index. */
    static int[] smoothCycle(long[] weights) {
        long total = 0;
        for (long w : weights) {
            total += w;
        }
        long[] current = new long[weights.length];
        int[] cycle = new int[(int) total];
        for (int step = 0; step < cycle.length; step++) {
            int best = 0;
            for (int i = 0; i < weights.length; i++) {
                current[i] += weights[i];
                if (current[i] > current[best]) {
                    best = i;
                }
            }
            current[best] -= total;
            cycle[step] = best;
        }
        return cycle;
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }
}
