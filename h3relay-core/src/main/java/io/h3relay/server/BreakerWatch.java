package io.h3relay.server;

import io.h3relay.cluster.Cluster;
import io.h3relay.events.EventLog;
import io.h3relay.upstream.CircuitBreakers;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Publishes circuit-breaker trips as events without touching the request path: once a second it reads each
 * cluster's rejection counters; a cap that starts refusing publishes {@code breaker} with {@code open: true}
 * (and how many it refused in that second), one that refused nothing for a whole second {@code open: false}.
 * Runs on one event loop.
 */
final class BreakerWatch implements Runnable {
    private final Supplier<Iterable<Cluster>> clusters;
    private final EventLog events;
    /** Per cluster and kind: rejections at the last look, and whether it was refusing then. */
    private Map<String, long[]> last = new HashMap<>();

    BreakerWatch(Supplier<Iterable<Cluster>> clusters, EventLog events) {
        this.clusters = clusters;
        this.events = events;
    }

    @Override
    public void run() {
        Map<String, long[]> next = new HashMap<>(); // only the clusters in service: retired ones drop out
        for (Cluster c : clusters.get()) {
            for (CircuitBreakers.Kind kind : CircuitBreakers.Kind.values()) {
                long now = c.breakers().rejections(kind);
                String key = System.identityHashCode(c) + "|" + kind;
                long[] seen = last.getOrDefault(key, new long[2]); // a new cluster has refused nothing before
                next.put(key, seen);
                long delta = now - seen[0];
                boolean open = delta > 0;
                if (open != (seen[1] == 1)) {
                    Map<String, Object> d = new LinkedHashMap<>();
                    d.put("cluster", c.name());
                    d.put("limit", kind.name().toLowerCase(java.util.Locale.ROOT));
                    d.put("open", open);
                    if (open) {
                        d.put("rejected_last_second", delta);
                    }
                    events.publish("breaker", d);
                }
                seen[0] = now;
                seen[1] = open ? 1 : 0;
            }
        }
        last = next;
    }
}
