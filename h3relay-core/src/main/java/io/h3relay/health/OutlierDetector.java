package io.h3relay.health;

import io.h3relay.endpoint.EndpointHealth;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.config.ClusterConfig.OutlierDetection;
import io.netty.util.concurrent.EventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Passive outlier detection for one cluster: attempts report their outcome; consecutive 5xx (responses
 * with status >= 500, resets, timeouts) or consecutive connect failures eject an endpoint for
 * {@code base_ejection_time} x the number of times it was ejected (capped at {@link #MAX_EJECTION}, or the
 * base time if that is longer), while no more than {@code max_ejection_percent} of the cluster is out.
 *
 * <p>Outcomes arrive from every event loop. Successes only read the counters (and reset them when they
 * are not zero), so the common path writes nothing shared; ejection decisions take this object's lock,
 * which only failures reach.
 */
public final class OutlierDetector {
    private static final Logger LOG = LoggerFactory.getLogger(OutlierDetector.class);
    /** Like Envoy's max_ejection_time default: repeated ejections grow to this and no further. */
    static final Duration MAX_EJECTION = Duration.ofMinutes(5);

    private final String cluster;
    private final OutlierDetection config;
    private final List<Endpoint> endpoints;
    private final EventExecutor timer;
    private final Runnable onChange;
    private final long maxEjectionNanos;
    private final java.util.Map<Endpoint, State> states = new java.util.IdentityHashMap<>();
    private volatile boolean closed;

    /**
     * One endpoint's counters. The consecutive counts are updated from every event loop (atomics, written only
     * when they change, so the success path of a request costs two reads); the rest is guarded by this
     * detector's lock.
     */
    private static final class State {
        final java.util.concurrent.atomic.AtomicInteger consecutive5xx = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.atomic.AtomicInteger consecutiveConnectFailures =
                new java.util.concurrent.atomic.AtomicInteger();
        int ejections;
        long lastUnejectedNanos;
    }

    public OutlierDetector(String cluster, OutlierDetection config, List<Endpoint> endpoints, EventExecutor timer,
                           Runnable onChange) {
        this.cluster = cluster;
        this.config = config;
        this.endpoints = List.copyOf(endpoints);
        this.timer = timer;
        this.onChange = onChange;
        this.maxEjectionNanos = Math.max(MAX_EJECTION.toNanos(), config.baseEjectionTime().toNanos());
        for (Endpoint e : this.endpoints) {
            states.put(e, new State());
        }
    }

    /** The endpoint answered with a status below 500. */
    public void onSuccess(Endpoint e) {
        State h = states.get(e);
        if (h.consecutive5xx.get() != 0) {
            h.consecutive5xx.set(0);
        }
        if (h.consecutiveConnectFailures.get() != 0) {
            h.consecutiveConnectFailures.set(0);
        }
    }

    /** A 5xx response, a reset before the response completed, or a timeout. */
    public void on5xx(Endpoint e, String what) {
        int n = states.get(e).consecutive5xx.incrementAndGet();
        if (n >= config.consecutive5xx()) {
            tryEject(e, n + " consecutive 5xx/resets/timeouts (last: " + what + ")");
        }
    }

    /** The connection (or its TLS handshake) could not be established: also a gateway error. */
    public void onConnectFailure(Endpoint e, String what) {
        State h = states.get(e);
        int n = h.consecutiveConnectFailures.incrementAndGet();
        int fiveXx = h.consecutive5xx.incrementAndGet();
        if (n >= config.consecutiveConnectFailures()) {
            tryEject(e, n + " consecutive connect failures (last: " + what + ")");
        } else if (fiveXx >= config.consecutive5xx()) {
            tryEject(e, fiveXx + " consecutive 5xx/resets/timeouts (last: " + what + ")");
        }
    }

    private void tryEject(Endpoint e, String reason) {
        long duration;
        synchronized (this) {
            EndpointHealth health = e.health();
            State h = states.get(e);
            if (closed || health.isEjected()) {
                return;
            }
            long ejectedNow = endpoints.stream().filter(x -> x.health().isEjected()).count();
            if (ejectedNow + 1 > maxEjected()) {
                LOG.debug("cluster {}: endpoint {} not ejected ({}): max_ejection_percent {} reached", cluster, e,
                        reason, config.maxEjectionPercent());
                return;
            }
            long now = System.nanoTime();
            if (h.ejections > 0 && now - h.lastUnejectedNanos > maxEjectionNanos) {
                h.ejections = 0; // it behaved for a long while: start the back-off over
            }
            h.ejections++;
            duration = Math.min(maxEjectionNanos, config.baseEjectionTime().toNanos() * h.ejections);
            h.consecutive5xx.set(0);
            h.consecutiveConnectFailures.set(0);
            health.ejected(true);
            LOG.warn("cluster {}: endpoint {} ejected for {} ms: {}", cluster, e, duration / 1_000_000, reason);
        }
        onChange.run();
        try {
            timer.schedule(() -> uneject(e), duration, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // the server is stopping: nothing will route to this endpoint again anyway
        }
    }

    /** At least one endpoint may always be ejected, unless the percentage is 0. */
    private long maxEjected() {
        if (config.maxEjectionPercent() == 0) {
            return 0;
        }
        return Math.max(1, endpoints.size() * (long) config.maxEjectionPercent() / 100);
    }

    private void uneject(Endpoint e) {
        synchronized (this) {
            EndpointHealth health = e.health();
            if (closed || !health.isEjected()) {
                return;
            }
            health.ejected(false);
            states.get(e).lastUnejectedNanos = System.nanoTime();
            LOG.info("cluster {}: endpoint {} back from ejection", cluster, e);
        }
        onChange.run();
    }

    public void close() {
        closed = true;
    }
}
