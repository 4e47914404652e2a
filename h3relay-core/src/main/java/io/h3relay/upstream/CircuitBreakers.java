package io.h3relay.upstream;

import io.h3relay.config.ClusterConfig.CircuitBreaker;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A cluster's circuit breakers: caps on its open connections, on requests waiting for a connection, and on
 * requests in flight (attempts, retries included). Past a cap the request is refused at once (503
 * {@code upstream_overloaded}) instead of queueing without bound behind a slow cluster. Shared by all event
 * loops: lock-free counters.
 *
 * <p>Without a {@code circuit_breaker} block only the pending cap applies, at {@link #DEFAULT_MAX_PENDING}.
 */
public final class CircuitBreakers {
    static final int DEFAULT_MAX_PENDING = 1024;

    /** Which cap refused a request; also the label of the rejection counter. */
    public enum Kind { CONNECTIONS, PENDING_REQUESTS, REQUESTS }

    private final int maxConnections;
    private final int maxPending;
    private final int maxRequests;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicLong[] rejections = new AtomicLong[Kind.values().length];

    public CircuitBreakers(CircuitBreaker config) {
        this.maxConnections = config == null ? Integer.MAX_VALUE : config.maxConnections();
        this.maxPending = config == null ? DEFAULT_MAX_PENDING : config.maxPendingRequests();
        this.maxRequests = config == null ? Integer.MAX_VALUE : config.maxRequests();
        for (int i = 0; i < rejections.length; i++) {
            rejections[i] = new AtomicLong();
        }
    }

    /** An attempt starts: false (and counted as a rejection) when max_requests are already in flight. */
    public boolean tryStartRequest() {
        return tryIncrement(requests, maxRequests, Kind.REQUESTS);
    }

    public void requestFinished() {
        requests.decrementAndGet();
    }

    boolean tryAddPending() {
        return tryIncrement(pending, maxPending, Kind.PENDING_REQUESTS);
    }

    void pendingDone() {
        pending.decrementAndGet();
    }

    /** Not counted as a rejection here: the pool may still queue the request behind its own connections. */
    boolean tryOpenConnection() {
        return tryIncrement(connections, maxConnections, null);
    }

    void connectionClosed() {
        connections.decrementAndGet();
    }

    void rejected(Kind kind) {
        rejections[kind.ordinal()].incrementAndGet();
    }

    public int activeRequests() {
        return requests.get();
    }

    public int pendingRequests() {
        return pending.get();
    }

    public int connections() {
        return connections.get();
    }

    public long rejections(Kind kind) {
        return rejections[kind.ordinal()].get();
    }

    public int maxConnections() {
        return maxConnections;
    }

    public int maxPendingRequests() {
        return maxPending;
    }

    public int maxRequests() {
        return maxRequests;
    }

    private boolean tryIncrement(AtomicInteger counter, int max, Kind kind) {
        for (;;) {
            int n = counter.get();
            if (n >= max) {
                if (kind != null) {
                    rejected(kind);
                }
                return false;
            }
            if (counter.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }
}
