package io.h3relay.upstream;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.config.ClusterConfig;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP/1.1 {@link UpstreamPool}: keep-alive connections to one endpoint, each leased whole to one
 * exchange ({@link Http1Connection} is the stream), kept per event loop so that an exchange's upstream connection
 * lives on its downstream channel's loop (no cross-thread hand-off). The connection limit is shared by
 * all loops; acquisitions past it wait in the loop's queue, as long as the cluster's pending-requests
 * breaker allows. Past the cluster's connection breaker, an acquisition waits only if this pool has
 * connections of its own that will come back; otherwise it fails at once (no waiting on other pools).
 *
 * <pre>
 *   acquire(loop) ─► idle connection of this loop? ─yes─► use it
 *                        │ no
 *                        ▼
 *                 total < max? ─yes─► connect on this loop
 *                        │ no
 *                        ▼
 *                 wait for a release or a close
 * </pre>
 */
public final class Http1Pool implements UpstreamPool {
    private static final Logger LOG = LoggerFactory.getLogger(Http1Pool.class);

    private final Endpoint endpoint;
    private final ClusterConfig.Pool config;
    private final UpstreamConnector connector;
    private final CircuitBreakers breakers;
    private final ConnectionSlots slots;
    /** Acquisitions waiting, on all loops. */
    private final AtomicInteger waiting = new AtomicInteger();
    private final ConcurrentHashMap<EventLoop, LoopPool> loops = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public Http1Pool(Endpoint endpoint, ClusterConfig.Pool config, UpstreamConnector connector,
                     CircuitBreakers breakers) {
        this.endpoint = endpoint;
        this.config = config;
        this.connector = connector;
        this.breakers = breakers;
        this.slots = new ConnectionSlots(config.maxConnections(), breakers);
    }

    @Override
    public Endpoint endpoint() {
        return endpoint;
    }

    /** Open connections (idle and in use) across all loops. */
    @Override
    public int connectionCount() {
        return slots.count();
    }

    /**
     * Idle connections across all loops, for metrics. Read from another thread than the loops that own the
     * queues, so it is a racy snapshot (never an exception: {@link ArrayDeque#size()} only reads two ints).
     */
    @Override
    public int idleCount() {
        int n = 0;
        for (LoopPool lp : loops.values()) {
            n += lp.idle.size();
        }
        return n;
    }

    /** Acquisitions waiting for a connection, across all loops. */
    @Override
    public int pendingCount() {
        return waiting.get();
    }

    @Override
    public UpstreamStream tryAcquire(EventLoop loop) {
        if (closed) {
            return null;
        }
        LoopPool lp = loops.get(loop);
        if (lp == null) {
            return null;
        }
        Http1Connection idle;
        while ((idle = lp.idle.pollLast()) != null) {
            if (idle.channel().isActive()) {
                activate(idle);
                return idle;
            }
        }
        return null;
    }

    @Override
    public Future<UpstreamStream> acquire(EventLoop loop) {
        Promise<UpstreamStream> promise = loop.newPromise();
        if (closed) {
            return promise.setFailure(new PoolClosedException());
        }
        UpstreamStream idle = tryAcquire(loop);
        if (idle != null) {
            return promise.setSuccess(idle);
        }
        LoopPool lp = loops.computeIfAbsent(loop, l -> new LoopPool());
        ConnectionSlots.Reserve r = slots.tryReserve();
        if (r == ConnectionSlots.Reserve.OK) {
            connect(loop, promise);
        } else if (r == ConnectionSlots.Reserve.CLUSTER_FULL && slots.count() == 0) {
            promise.setFailure(slots.clusterFull());
        } else if (!breakers.tryAddPending()) {
            promise.setFailure(new PoolExhaustedException("too many requests waiting for a connection "
                    + "(max_pending_requests " + breakers.maxPendingRequests() + ")"));
        } else {
            lp.waiters.add(promise);
            waiting.incrementAndGet();
            promise.addListener(f -> {
                waiting.decrementAndGet();
                breakers.pendingDone();
            });
            reclaimIdleElsewhere(loop);
        }
        return promise;
    }

    @Override
    public Future<UpstreamStream> openDedicated(EventLoop loop) {
        Promise<UpstreamStream> promise = loop.newPromise();
        Http1ConnectionHandler handler = new Http1ConnectionHandler();
        connector.connect(loop, endpoint, handler).addListener(f -> {
            if (f.isSuccess()) {
                promise.setSuccess(new Http1Connection((Channel) f.getNow(), this, handler, false));
            } else {
                promise.setFailure(f.cause());
            }
        });
        return promise;
    }

    /**
     * A waiter on {@code loop} cannot use another loop's idle connection, but that connection holds a slot:
     * each other loop closes its oldest idle connection, if a waiter is still there, so that the slot's
     * release (see {@link #connectionGone()}) lets the waiter connect on its own loop.
     */
    private void reclaimIdleElsewhere(EventLoop loop) {
        for (var e : loops.entrySet()) {
            EventLoop other = e.getKey();
            LoopPool lp = e.getValue();
            if (other != loop && !other.isShuttingDown()) {
                other.execute(() -> {
                    Http1Connection idle;
                    if (waiting.get() > 0 && (idle = lp.idle.pollFirst()) != null) {
                        idle.channel().close();
                    }
                });
            }
        }
    }

    private void connect(EventLoop loop, Promise<UpstreamStream> promise) {
        Http1ConnectionHandler handler = new Http1ConnectionHandler();
        connector.connect(loop, endpoint, handler).addListener(f -> {
            if (!f.isSuccess()) {
                connectionGone();
                if (!promise.tryFailure(f.cause())) {
                    LOG.debug("connect to {} failed after its request went away", endpoint, f.cause());
                }
                return;
            }
            Channel ch = (Channel) f.getNow();
            Http1Connection conn = new Http1Connection(ch, this, handler, true);
            ch.closeFuture().addListener(cf -> onClose(conn, loop));
            activate(conn);
            if (!promise.trySuccess(conn)) {
                // The waiter went away (its exchange ended): keep the fresh connection for the next one.
                release(conn, true);
            }
        });
    }

    private static void activate(Http1Connection conn) {
        conn.inUse(true);
    }

    void release(Http1Connection conn, boolean reusable) {
        Channel ch = conn.channel();
        conn.inUse(false);
        long maxRequests = config.maxRequestsPerConnection();
        if (!reusable || closed || !ch.isActive() || (maxRequests > 0 && conn.requests() >= maxRequests)) {
            ch.close();
            return;
        }
        EventLoop loop = ch.eventLoop();
        LoopPool lp = loops.computeIfAbsent(loop, l -> new LoopPool());
        Promise<UpstreamStream> waiter;
        while ((waiter = lp.waiters.poll()) != null) {
            activate(conn);
            if (waiter.trySuccess(conn)) {
                return;
            }
            conn.inUse(false);
        }
        if (waiting.get() > 0) {
            // Waiters on other loops (this loop's were served above) cannot use a connection of this loop:
            // give its slot up so that one of them connects on its own loop.
            ch.close();
            return;
        }
        // Idle connections keep reading, so a close or stray bytes from the endpoint are noticed at once.
        ch.config().setAutoRead(true);
        lp.idle.addLast(conn);
        conn.idleFrom(System.nanoTime(), config.idleTimeout().toNanos());
    }

    private void onClose(Http1Connection conn, EventLoop loop) {
        LoopPool lp = loops.get(loop);
        if (lp != null) {
            lp.idle.remove(conn);
        }
        connectionGone();
    }

    /** A slot freed up: let one waiter (on any loop, on its own loop) open a connection. */
    private void connectionGone() {
        slots.release();
        for (var e : loops.entrySet()) {
            EventLoop loop = e.getKey();
            LoopPool lp = e.getValue();
            if (!lp.waiters.isEmpty() && !loop.isShuttingDown()) {
                loop.execute(() -> serveWaiter(loop, lp));
            }
        }
    }

    private void serveWaiter(EventLoop loop, LoopPool lp) {
        Promise<UpstreamStream> waiter;
        while ((waiter = lp.waiters.peek()) != null) {
            if (waiter.isDone()) {
                lp.waiters.poll();
                continue;
            }
            ConnectionSlots.Reserve r = slots.tryReserve();
            if (r == ConnectionSlots.Reserve.CLUSTER_FULL && slots.count() == 0) {
                // Nothing of this pool will come back to serve the queue: fail it rather than let it hang.
                while ((waiter = lp.waiters.poll()) != null) {
                    waiter.tryFailure(slots.clusterFull());
                }
                return;
            }
            if (r != ConnectionSlots.Reserve.OK) {
                return;
            }
            lp.waiters.poll();
            connect(loop, waiter);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (var e : loops.entrySet()) {
            LoopPool lp = e.getValue();
            e.getKey().execute(() -> {
                Http1Connection c;
                while ((c = lp.idle.poll()) != null) {
                    c.channel().close();
                }
                Promise<UpstreamStream> w;
                while ((w = lp.waiters.poll()) != null) {
                    w.tryFailure(new PoolClosedException());
                }
            });
        }
    }

    /** Loop-confined state: touched only on its event loop. */
    private static final class LoopPool {
        final ArrayDeque<Http1Connection> idle = new ArrayDeque<>();
        final ArrayDeque<Promise<UpstreamStream>> waiters = new ArrayDeque<>();
    }
}
