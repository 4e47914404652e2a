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
    // The operator (admin API).
    private volatile AdminState adminState = AdminState.ENABLED;

    /**
     * What the operator said: {@code ENABLED} (takes traffic when healthy), {@code DRAINING} (no new requests,
     * those in flight finish), {@code DRAINED} (draining and none in flight any more), {@code DISABLED}.
     */
    public enum AdminState {
        ENABLED, DRAINING, DRAINED, DISABLED;

        public String configName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Passing active checks (or not checked at all) and not ejected. */
    public boolean isAvailable() {
        return checkHealthy && !ejected;
    }

    /** Available and enabled by the operator: the balancer may pick it. */
    public boolean takesTraffic() {
        return isAvailable() && adminState == AdminState.ENABLED;
    }

    public AdminState adminState() {
        return adminState;
    }

    /** Written by the admin API (through its cluster, which republishes). */
    public void adminState(AdminState state) {
        this.adminState = state;
    }

    /**
     * Takes over what {@code old} (the same address in the cluster this one replaces) knew: the active
     * checks' verdict and the operator's state. Ejection is not carried: the old detector's timer that would
     * end it is gone with the old cluster, and the new detector starts counting afresh.
     */
    public void inheritFrom(EndpointHealth old) {
        this.checkHealthy = old.checkHealthy;
        this.lastCheckFailure = old.lastCheckFailure;
        this.checkStateSinceNanos = old.checkStateSinceNanos;
        this.totalEjections = old.totalEjections;
        AdminState s = old.adminState;
        // A drain in progress is about the old endpoint's requests; the new one starts with none in flight.
        this.adminState = s == AdminState.DRAINING ? AdminState.DRAINED : s;
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
