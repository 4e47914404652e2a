package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;

import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * One immutable snapshot of endpoints with cumulative weights, shared by the balancers that draw at random.
 * Everything is final and built in the constructor, so any event loop may read it without locks.
 *
 * <pre>
 *   weights      3     1   2
 *   cumulative   3     4   6      a draw r in [0, 6) picks the first i with cumulative[i] > r
 * </pre>
 */
final class WeightedEndpoints {
    private final Endpoint[] endpoints;
    private final long[] cumulative;
    private final long totalWeight;
    /** All weights equal: draws skip the binary search. */
    private final boolean uniform;

    WeightedEndpoints(List<Endpoint> snapshot) {
        this.endpoints = snapshot.toArray(new Endpoint[0]);
        this.cumulative = new long[endpoints.length];
        long sum = 0;
        boolean same = true;
        for (int i = 0; i < endpoints.length; i++) {
            sum += endpoints[i].weight();
            cumulative[i] = sum;
            same &= endpoints[i].weight() == endpoints[0].weight();
        }
        this.totalWeight = sum;
        this.uniform = same;
    }

    int size() {
        return endpoints.length;
    }

    Endpoint get(int index) {
        return endpoints[index];
    }

    int weight(int index) {
        return endpoints[index].weight();
    }

    boolean isExcluded(int index, Set<Endpoint> exclude) {
        return !exclude.isEmpty() && exclude.contains(endpoints[index]);
    }

    /** True when every endpoint of this snapshot is in {@code exclude}: then callers fall back to an excluded one. */
    boolean allExcluded(Set<Endpoint> exclude) {
        return allExcluded(endpoints, exclude);
    }

    static boolean allExcluded(Endpoint[] endpoints, Set<Endpoint> exclude) {
        // exclude holds distinct endpoints, so a smaller set cannot cover us: the common retry case is O(1).
        if (exclude.size() < endpoints.length) {
            return false;
        }
        for (Endpoint endpoint : endpoints) {
            if (!exclude.contains(endpoint)) {
                return false;
            }
        }
        return true;
    }

    /** A weighted random index. O(1) for equal weights, O(log n) otherwise. */
    int weightedIndex(RandomGenerator random) {
        if (uniform) {
            return random.nextInt(endpoints.length);
        }
        return indexOf(random.nextLong(totalWeight));
    }

    /**
     * A weighted random index other than {@code taken} (needs size() >= 2): draw from the total without
     * taken's weight, then step over taken's slice of the line.
     */
    int weightedIndexOtherThan(int taken, RandomGenerator random) {
        if (uniform) {
            int i = random.nextInt(endpoints.length - 1);
            return i >= taken ? i + 1 : i;
        }
        long takenWeight = endpoints[taken].weight();
        long r = random.nextLong(totalWeight - takenWeight);
        long takenStart = cumulative[taken] - takenWeight;
        return indexOf(r >= takenStart ? r + takenWeight : r);
    }

    /**
     * A weighted random index among endpoints not in {@code exclude} and not {@code skip} (-1 for none),
     * or -1 when none is left. O(n): only retries come here.
     */
    int weightedIndexAllowed(Set<Endpoint> exclude, int skip, RandomGenerator random) {
        long allowed = 0;
        for (int i = 0; i < endpoints.length; i++) {
            if (i != skip && !isExcluded(i, exclude)) {
                allowed += endpoints[i].weight();
            }
        }
        if (allowed == 0) {
            return -1;
        }
        long r = random.nextLong(allowed);
        for (int i = 0; i < endpoints.length; i++) {
            if (i != skip && !isExcluded(i, exclude)) {
                r -= endpoints[i].weight();
                if (r < 0) {
                    return i;
                }
            }
        }
        throw new AssertionError("weights changed under us");
    }

    /** The first index whose cumulative weight exceeds r (0 <= r < totalWeight). */
    private int indexOf(long r) {
        int low = 0;
        int high = cumulative.length - 1;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (cumulative[mid] > r) {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        return low;
    }
}
