package io.h3relay.health;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What active health checks and outlier detection know about one endpoint. An endpoint takes traffic when
 * it is {@link #isAvailable() available}: not failing its active checks and not ejected.
 *
 * <p>Threading: the active-check counters belong to the checker's event loop; the outlier counters are
 * updated from every event loop (atomics, written only when they change, so the success path of a request
 * costs two reads); the state flags are volatile and read by anyone (balancer snapshots, admin).
 */
public final class EndpointHealth {
    // Active checks. Endpoints start healthy: a proxy that refuses traffic until its first check round
    // finishes turns every restart into a short outage.
    private volatile boolean checkHealthy = true;
    private volatile String lastCheckFailure;
    private volatile long checkStateSinceNanos = System.nanoTime();
    int checkSuccesses;
    int checkFailures;

    // Outlier detection.
    final AtomicInteger consecutive5xx = new AtomicInteger();
    final AtomicInteger consecutiveConnectFailures = new AtomicInteger();
    private volatile boolean ejected;
    /** Guarded by the cluster's {@link OutlierDetector}. */
    int ejections;
    long lastUnejectedNanos;
    volatile long totalEjections;

    /** Passing active checks (or not checked at all) and not ejected. */
    public boolean isAvailable() {
        return checkHealthy && !ejected;
    }

    public boolean isCheckHealthy() {
        return checkHealthy;
    }

    public boolean isEjected() {
        return ejected;
    }

    /** {@link System#nanoTime()} of the last change of {@link #isCheckHealthy()}. */
    public long checkStateSinceNanos() {
        return checkStateSinceNanos;
    }

    /** Why the last failing active check failed, or null. */
    public String lastCheckFailure() {
        return lastCheckFailure;
    }

    /** Times outlier detection ejected this endpoint since start. */
    public long totalEjections() {
        return totalEjections;
    }

    void checkHealthy(boolean healthy, String failure) {
        if (healthy != checkHealthy) {
            checkStateSinceNanos = System.nanoTime();
        }
        this.checkHealthy = healthy;
        this.lastCheckFailure = failure;
    }

    void ejected(boolean value) {
        this.ejected = value;
    }
}
