package io.h3relay.upstream;

import io.h3relay.endpoint.Endpoint;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

/**
 * Hands out {@link UpstreamStream}s to one endpoint, on the caller's event loop. An HTTP/1.1 pool leases a
 * whole connection per stream ({@link Http1Pool}); a multiplexed pool (h2, h3) opens streams on shared
 * connections up to the peer's limits. The forwarding sees only this interface, so a cluster's protocol
 * (and a chooser among several) changes nothing above it.
 *
 * <p>Failures of {@link #acquire} are exceptions of this package: {@link PoolExhaustedException} (a circuit
 * breaker), {@link PoolClosedException} (the cluster is going away), {@link UpstreamConnector.UpstreamTlsException},
 * or the transport's own connect exception.
 */
public interface UpstreamPool {

    Endpoint endpoint();

    /** The protocol this pool's streams speak (what {@code /introspect} shows per endpoint). */
    default UpstreamProtocol protocol() {
        return UpstreamProtocol.HTTP_1_1;
    }

    /**
     * A stream at once when one is ready without waiting (an idle connection), else null: then call
     * {@link #acquire}. On {@code loop} only. Costs no future or listener on the common path.
     */
    UpstreamStream tryAcquire(EventLoop loop);

    /**
     * A stream once a connection is there (new, or released by another exchange) within the pool's and the
     * cluster's limits. On {@code loop} only; cancelling the future gives up the place in the queue.
     */
    Future<UpstreamStream> acquire(EventLoop loop);

    /**
     * A stream on a connection of its own, outside the pool and its limits, closed when the stream ends:
     * health checks use it, so a check proves that new connections can be made and takes nothing from traffic.
     */
    Future<UpstreamStream> openDedicated(EventLoop loop);

    /**
     * The pool for a request HTTP/3 cannot carry to the endpoint (a WebSocket upgrade: RFC 9220 towards
     * endpoints is not built): this pool, or the TCP side of a pool that may speak QUIC.
     */
    default UpstreamPool overTcp() {
        return this;
    }

    /** Open connections, idle and busy. */
    int connectionCount();

    /** Idle connections (a racy snapshot when read off the loops). */
    int idleCount();

    /** Acquisitions waiting for a connection. */
    int pendingCount();

    /** Closes idle connections and refuses new acquisitions; busy ones close when their stream ends. */
    void close();

    /** A circuit breaker refused the acquisition. */
    final class PoolExhaustedException extends Exception {
        PoolExhaustedException(String message) {
            super(message, null, false, false);
        }
    }

    /** The pool was closed (the cluster is shutting down or was replaced). */
    final class PoolClosedException extends Exception {
        PoolClosedException() {
            super("cluster is shutting down", null, false, false);
        }
    }
}
