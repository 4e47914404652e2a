package io.h3relay.upstream;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A pool's connection count against its own {@code pool.max_connections} and the cluster's
 * {@code circuit_breaker.max_connections}: one slot per open (or opening) connection, whatever the protocol.
 */
final class ConnectionSlots {
    /** What {@link #tryReserve()} found. */
    enum Reserve { OK, POOL_FULL, CLUSTER_FULL }

    private final int max;
    private final CircuitBreakers breakers;
    private final AtomicInteger total = new AtomicInteger();

    /** {@code max}: the pool's limit, 0 for none. */
    ConnectionSlots(int max, CircuitBreakers breakers) {
        this.max = max;
        this.breakers = breakers;
    }

    /** A slot for a new connection: within the pool's limit and the cluster's breaker. */
    Reserve tryReserve() {
        for (;;) {
            int n = total.get();
            if (max > 0 && n >= max) {
                return Reserve.POOL_FULL;
            }
            if (total.compareAndSet(n, n + 1)) {
                break;
            }
        }
        if (!breakers.tryOpenConnection()) {
            total.decrementAndGet();
            return Reserve.CLUSTER_FULL;
        }
        return Reserve.OK;
    }

    /** A connection closed (or its connect failed): its slot is free. */
    void release() {
        total.decrementAndGet();
        breakers.connectionClosed();
    }

    /** Open and opening connections. */
    int count() {
        return total.get();
    }

    /** The failure for a request that cannot get a connection because the cluster's breaker is full (counted). */
    UpstreamPool.PoolExhaustedException clusterFull() {
        breakers.rejected(CircuitBreakers.Kind.CONNECTIONS);
        return new UpstreamPool.PoolExhaustedException("cluster connection limit (circuit_breaker max_connections "
                + breakers.maxConnections() + ") reached");
    }
}
