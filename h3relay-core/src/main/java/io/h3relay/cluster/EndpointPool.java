package io.h3relay.cluster;

import io.h3relay.config.ClusterConfig;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Keep-alive connections to one endpoint, kept per event loop so that an exchange's upstream connection
 * lives on its downstream channel's loop (no cross-thread hand-off). The connection limit is shared by
 * all loops; acquisitions past it wait in the loop's queue, up to {@link #MAX_PENDING}.
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
public final class EndpointPool {
    /** Until circuit breakers (max_pending_requests) take over: bounded waiting per loop. */
    static final int MAX_PENDING = 1024;

    private final Endpoint endpoint;
    private final ClusterConfig.Pool config;
    private final UpstreamConnector connector;
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentHashMap<EventLoop, LoopPool> loops = new ConcurrentHashMap<>();
    private volatile boolean closed;

    EndpointPool(Endpoint endpoint, ClusterConfig.Pool config, UpstreamConnector connector) {
        this.endpoint = endpoint;
        this.config = config;
        this.connector = connector;
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    /** Open connections (idle and in use) across all loops. */
    public int connectionCount() {
        return total.get();
    }

    /**
     * Idle connections across all loops, for metrics. Read from another thread than the loops that own the
     * queues, so it is a racy snapshot (never an exception: {@link ArrayDeque#size()} only reads two ints).
     */
    public int idleCount() {
        int n = 0;
        for (LoopPool lp : loops.values()) {
            n += lp.idle.size();
        }
        return n;
    }

    /** Acquisitions waiting for a connection across all loops; a racy snapshot like {@link #idleCount()}. */
    public int pendingCount() {
        int n = 0;
        for (LoopPool lp : loops.values()) {
            n += lp.waiters.size();
        }
        return n;
    }

    /** Must be called on {@code loop}. */
    public Future<UpstreamConnection> acquire(EventLoop loop) {
        Promise<UpstreamConnection> promise = loop.newPromise();
        if (closed) {
            return promise.setFailure(new PoolClosedException());
        }
        LoopPool lp = loops.computeIfAbsent(loop, l -> new LoopPool());
        UpstreamConnection idle;
        while ((idle = lp.idle.pollLast()) != null) {
            if (idle.channel().isActive()) {
                activate(idle);
                return promise.setSuccess(idle);
            }
        }
        if (tryReserve()) {
            connect(loop, promise);
        } else if (lp.waiters.size() >= MAX_PENDING) {
            promise.setFailure(new PoolExhaustedException(config.maxConnections()));
        } else {
            lp.waiters.add(promise);
        }
        return promise;
    }

    private boolean tryReserve() {
        int max = config.maxConnections();
        for (;;) {
            int n = total.get();
            if (max > 0 && n >= max) {
                return false;
            }
            if (total.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    private void connect(EventLoop loop, Promise<UpstreamConnection> promise) {
        UpstreamConnectionHandler handler = new UpstreamConnectionHandler();
        connector.connect(loop, endpoint, handler).addListener(f -> {
            if (!f.isSuccess()) {
                connectionGone();
                promise.tryFailure(f.cause());
                return;
            }
            Channel ch = (Channel) f.getNow();
            UpstreamConnection conn = new UpstreamConnection(ch, this, handler);
            ch.closeFuture().addListener(cf -> onClose(conn, loop));
            activate(conn);
            if (!promise.trySuccess(conn)) {
                // The waiter went away (its exchange ended): keep the fresh connection for the next one.
                release(conn, true);
            }
        });
    }

    private static void activate(UpstreamConnection conn) {
        conn.inUse(true);
    }

    void release(UpstreamConnection conn, boolean reusable) {
        Channel ch = conn.channel();
        conn.inUse(false);
        long maxRequests = config.maxRequestsPerConnection();
        if (!reusable || closed || !ch.isActive() || (maxRequests > 0 && conn.requests() >= maxRequests)) {
            ch.close();
            return;
        }
        EventLoop loop = ch.eventLoop();
        LoopPool lp = loops.computeIfAbsent(loop, l -> new LoopPool());
        Promise<UpstreamConnection> waiter;
        while ((waiter = lp.waiters.poll()) != null) {
            activate(conn);
            if (waiter.trySuccess(conn)) {
                return;
            }
            conn.inUse(false);
        }
        // Idle connections keep reading, so a close or stray bytes from the endpoint are noticed at once.
        ch.config().setAutoRead(true);
        lp.idle.addLast(conn);
        conn.idleFrom(System.nanoTime(), config.idleTimeout().toNanos());
    }

    private void onClose(UpstreamConnection conn, EventLoop loop) {
        LoopPool lp = loops.get(loop);
        if (lp != null) {
            lp.idle.remove(conn);
        }
        connectionGone();
    }

    /** A slot freed up: let one waiter (on any loop, on its own loop) open a connection. */
    private void connectionGone() {
        total.decrementAndGet();
        for (var e : loops.entrySet()) {
            EventLoop loop = e.getKey();
            LoopPool lp = e.getValue();
            if (!lp.waiters.isEmpty() && !loop.isShuttingDown()) {
                loop.execute(() -> serveWaiter(loop, lp));
            }
        }
    }

    private void serveWaiter(EventLoop loop, LoopPool lp) {
        Promise<UpstreamConnection> waiter;
        while ((waiter = lp.waiters.peek()) != null) {
            if (waiter.isDone()) {
                lp.waiters.poll();
                continue;
            }
            if (!tryReserve()) {
                return;
            }
            lp.waiters.poll();
            connect(loop, waiter);
        }
    }

    /** Closes idle connections and refuses new acquisitions; in-use ones close when released. */
    public void close() {
        closed = true;
        for (var e : loops.entrySet()) {
            LoopPool lp = e.getValue();
            e.getKey().execute(() -> {
                UpstreamConnection c;
                while ((c = lp.idle.poll()) != null) {
                    c.channel().close();
                }
                Promise<UpstreamConnection> w;
                while ((w = lp.waiters.poll()) != null) {
                    w.tryFailure(new PoolClosedException());
                }
            });
        }
    }

    /** Loop-confined state: touched only on its event loop. */
    private static final class LoopPool {
        final ArrayDeque<UpstreamConnection> idle = new ArrayDeque<>();
        final ArrayDeque<Promise<UpstreamConnection>> waiters = new ArrayDeque<>();
    }

    public static final class PoolExhaustedException extends Exception {
        PoolExhaustedException(int max) {
            super("endpoint connection pool exhausted (max_connections " + max + ", pending limit reached)", null,
                    false, false);
        }
    }

    public static final class PoolClosedException extends Exception {
        PoolClosedException() {
            super("cluster is shutting down", null, false, false);
        }
    }
}
