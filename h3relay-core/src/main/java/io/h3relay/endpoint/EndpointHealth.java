package io.h3relay.endpoint;


/**
 * What active health checks and outlier detection know about one endpoint. An endpoint takes traffic when
 * it is {@link #isAvailable() available}: not failing its active checks and not ejected.
 *
 * <p>Only the published state lives here (volatile, read by anyone: balancer snapshots, admin, metrics);
 * the counters that lead to it belong to the checker and the outlier detector in {@code health/}, which
 * are the only writers.
 */
public final class EndpointHealth {
    // Active checks. Endpoints start healthy: a proxy that refuses traffic until its first check round
    // finishes turns every restart into a short outage.
    private volatile boolean checkHealthy = true;
    private volatile String lastCheckFailure;
    private volatile long checkStateSinceNanos = System.nanoTime();
    // Outlier detection.
    private volatile boolean ejected;
    private volatile long totalEjections;

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

    /** Written by the active checker only. */
    public void checkHealthy(boolean healthy, String failure) {
        if (healthy != checkHealthy) {
            checkStateSinceNanos = System.nanoTime();
        }
        this.checkHealthy = healthy;
        this.lastCheckFailure = failure;
    }

    /** Written by the outlier detector only, under its lock. */
    public void ejected(boolean value) {
        this.ejected = value;
        if (value) {
            totalEjections++;
        }
    }
}
