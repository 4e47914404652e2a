package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.config.ClusterConfig.HashOn;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * maglev: Google's Maglev lookup table (Eisenbud et al., NSDI 2016). A key picks {@code table[hash % M]}
 * with M prime: one array read, against ring_hash's binary search, and an even spread from a small table.
 *
 * <p>Population: each endpoint walks its own permutation of the slots, {@code (offset + j * skip) % M},
 * with offset and skip from two hashes of its address (skip in [1, M-1] is coprime to a prime M, so the walk
 * visits every slot). Endpoints take turns claiming their next free slot until the table is full. For
 * weights, a turn is earned by credit: each round an endpoint gains its weight and claims one slot per
 * max-weight of credit, so slots end up in proportion to weight.
 *
 * <p>Removing one of N endpoints moves its 1/N of keys plus a small extra share (the turns shift), unlike
 * ring_hash's none. Endpoints are sorted by address before filling, so the table does not depend on
 * snapshot order. Missing key: random by weight. Retry: the next table slots, in order, until an untried
 * endpoint; deterministic per key, and spread like the table itself.
 */
final class MaglevLoadBalancer implements LoadBalancer {
    static final int DEFAULT_TABLE_SIZE = 65537;
    /** The paper's rule of thumb: M well above 100 * N keeps each endpoint's share within about 1%. */
    private static final int SLOTS_PER_ENDPOINT = 100;
    private static final long OFFSET_SEED = 0x6d61676c65764f66L;
    private static final long SKIP_SEED = 0x6d61676c65765368L;

    private final Endpoint[] endpoints;
    /** table[slot] indexes endpoints. */
    private final int[] table;
    private final HashKeys keys;
    private final RandomLoadBalancer fallback;

    MaglevLoadBalancer(List<Endpoint> snapshot, HashOn hashOn, Supplier<? extends RandomGenerator> random) {
        this(snapshot, hashOn, random, tableSizeFor(snapshot.size()));
    }

    MaglevLoadBalancer(List<Endpoint> snapshot, HashOn hashOn, Supplier<? extends RandomGenerator> random,
                       int tableSize) {
        if (!BigInteger.valueOf(tableSize).isProbablePrime(50)) {
            throw new IllegalArgumentException("maglev table size must be prime: " + tableSize);
        }
        this.keys = new HashKeys(hashOn);
        this.fallback = new RandomLoadBalancer(snapshot, random);
        this.endpoints = snapshot.stream()
                .sorted(Comparator.comparing(HashKeys::identity))
                .toArray(Endpoint[]::new);
        this.table = populate(endpoints, tableSize);
    }

    static int tableSizeFor(int endpointCount) {
        long wanted = (long) endpointCount * SLOTS_PER_ENDPOINT;
        if (wanted <= DEFAULT_TABLE_SIZE) {
            return DEFAULT_TABLE_SIZE;
        }
        return BigInteger.valueOf(wanted).nextProbablePrime().intValueExact();
    }

    private static int[] populate(Endpoint[] endpoints, int m) {
        int n = endpoints.length;
        long[] offset = new long[n];
        long[] skip = new long[n];
        long[] next = new long[n];
        long[] credit = new long[n];
        long maxWeight = 1;
        for (int i = 0; i < n; i++) {
            String identity = HashKeys.identity(endpoints[i]);
            offset[i] = Long.remainderUnsigned(XxHash64.hash(identity, OFFSET_SEED), m);
            skip[i] = Long.remainderUnsigned(XxHash64.hash(identity, SKIP_SEED), m - 1) + 1;
            maxWeight = Math.max(maxWeight, endpoints[i].weight());
        }
        int[] table = new int[m];
        Arrays.fill(table, -1);
        int filled = 0;
        while (true) {
            for (int i = 0; i < n; i++) {
                credit[i] += endpoints[i].weight();
                while (credit[i] >= maxWeight) {
                    credit[i] -= maxWeight;
                    int slot;
                    do {
                        // next[i] < m while a free slot exists, so offset + next * skip fits in a long.
                        slot = (int) ((offset[i] + next[i] * skip[i]) % m);
                        next[i]++;
                    } while (table[slot] >= 0);
                    table[slot] = i;
                    if (++filled == m) {
                        return table;
                    }
                }
            }
        }
    }

    @Override
    public Endpoint pick(PickContext context, Set<Endpoint> exclude) {
        byte[] key = keys.key(context);
        if (key == null) {
            return fallback.pick(context, exclude);
        }
        int slot = (int) Long.remainderUnsigned(XxHash64.hash(key, HashKeys.KEY_SEED), table.length);
        Endpoint primary = endpoints[table[slot]];
        if (exclude.isEmpty() || !exclude.contains(primary) || WeightedEndpoints.allExcluded(endpoints, exclude)) {
            return primary;
        }
        for (int k = 1; k < table.length; k++) {
            Endpoint candidate = endpoints[table[(slot + k) % table.length]];
            if (!exclude.contains(candidate)) {
                return candidate;
            }
        }
        // Only untried endpoints whose weight is too small to own a slot are left: take one of them at random.
        return fallback.pick(context, exclude);
    }

    /** How many slots an endpoint owns, for tests. */
    int slotsOf(Endpoint endpoint) {
        int count = 0;
        for (int owner : table) {
            if (endpoints[owner] == endpoint) {
                count++;
            }
        }
        return count;
    }

    int tableSize() {
        return table.length;
    }
}
