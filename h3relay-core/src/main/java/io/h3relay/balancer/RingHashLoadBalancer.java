package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.config.ClusterConfig.HashOn;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * ring_hash: a consistent hash ring, ketama style. Each endpoint owns {@value #POINTS_PER_WEIGHT} points
 * per unit of weight, at xxHash64("address#i"); a request key hashes onto the ring and belongs to the
 * first point at or after it, wrapping at the end.
 *
 * <pre>
 *      key k
 *        v
 *   ---a----b--|--c----a----b---c---   (sorted points)   k goes to c
 * </pre>
 *
 * <p>Points depend only on an endpoint's address and weight (no gcd reduction, no normalising by the
 * total), so removing an endpoint removes only its points: its keys move to their next points, and no
 * other key moves at all. The exception is a ring that would pass {@link #MAX_POINTS}: then points are
 * scaled down in proportion to weight, trading that stability for bounded memory.
 *
 * <p>A request without a key is picked at random by weight. With {@code exclude} (a retry), the walk goes
 * on past the key's point to the next point owned by an untried endpoint, so retries of one key are
 * deterministic too. All state is final arrays: lock-free reads from every event loop.
 */
final class RingHashLoadBalancer implements LoadBalancer {
    static final int POINTS_PER_WEIGHT = 160;
    static final int MAX_POINTS = 1 << 18;

    private final Endpoint[] endpoints;
    /** Sorted point hashes (signed order: the ring only needs some total order). */
    private final long[] points;
    /** owners[i] indexes endpoints: who owns points[i]. */
    private final int[] owners;
    private final HashKeys keys;
    private final RandomLoadBalancer fallback;

    RingHashLoadBalancer(List<Endpoint> snapshot, HashOn hashOn, Supplier<? extends RandomGenerator> random) {
        this.keys = new HashKeys(hashOn);
        this.endpoints = snapshot.toArray(new Endpoint[0]);
        this.fallback = new RandomLoadBalancer(snapshot, random);

        record Point(long hash, int owner, String identity) {}
        long totalWeight = snapshot.stream().mapToLong(Endpoint::weight).sum();
        boolean scale = totalWeight * POINTS_PER_WEIGHT > MAX_POINTS;
        Point[] all = new Point[0];
        int count = 0;
        for (int e = 0; e < endpoints.length; e++) {
            String identity = HashKeys.identity(endpoints[e]);
            long weight = endpoints[e].weight();
            int n = (int) (scale ? Math.max(1, weight * MAX_POINTS / totalWeight) : weight * POINTS_PER_WEIGHT);
            if (count + n > all.length) {
                all = Arrays.copyOf(all, Math.max(count + n, all.length * 2));
            }
            for (int i = 0; i < n; i++) {
                all[count++] = new Point(XxHash64.hash(identity + "#" + i, HashKeys.KEY_SEED), e, identity);
            }
        }
        // Equal hashes (vanishingly rare) are ordered by address so the ring does not depend on snapshot order.
        Arrays.sort(all, 0, count, Comparator.comparingLong(Point::hash).thenComparing(Point::identity));
        this.points = new long[count];
        this.owners = new int[count];
        for (int i = 0; i < count; i++) {
            points[i] = all[i].hash();
            owners[i] = all[i].owner();
        }
    }

    @Override
    public Endpoint pick(PickContext context, Set<Endpoint> exclude) {
        byte[] key = keys.key(context);
        if (key == null) {
            return fallback.pick(context, exclude);
        }
        int start = firstPointAtOrAfter(XxHash64.hash(key, HashKeys.KEY_SEED));
        Endpoint primary = endpoints[owners[start]];
        if (exclude.isEmpty() || !exclude.contains(primary) || WeightedEndpoints.allExcluded(endpoints, exclude)) {
            return primary;
        }
        for (int k = 1; k < points.length; k++) {
            Endpoint candidate = endpoints[owners[(start + k) % points.length]];
            if (!exclude.contains(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError("an untried endpoint owns no point");
    }

    /** Number of points on the ring, for tests. */
    int ringSize() {
        return points.length;
    }

    /** Lower bound of hash in points, wrapping past the last point to the first. */
    private int firstPointAtOrAfter(long hash) {
        int low = 0;
        int high = points.length;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (points[mid] < hash) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low == points.length ? 0 : low;
    }
}
