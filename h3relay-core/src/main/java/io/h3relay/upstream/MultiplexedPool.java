package io.h3relay.upstream;

import io.h3relay.config.ClusterConfig;
import io.h3relay.endpoint.Endpoint;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A multiplexed {@link UpstreamPool} (HTTP/2: {@link Http2Pool}, HTTP/3: {@link Http3Pool}): per event loop,
 * connections to one endpoint each carrying many streams, up to the endpoint's limit (SETTINGS_MAX_CONCURRENT_STREAMS,
 * QUIC stream credit) and {@code pool.max_concurrent_streams}; a new connection when every connection of the
 * loop is full, within {@code pool.max_connections} (shared by the loops) and the cluster's connection
 * breaker. A connection that received GOAWAY takes no new stream: its streams finish on it while new requests
 * open a new connection, and it closes once drained.
 *
 * <pre>
 *   acquire(loop) ─► a connection of this loop with a free stream slot? ─yes─► open a stream on it
 *                        │ no
 *                        ▼
 *                 queue; no connection on its way? ─► reserve a slot, connect; when its SETTINGS arrive
 *                 the queue is served from it (and from streams that close, and from a raised limit)
 * </pre>
 *
 * Circuit breakers count streams as requests ({@code max_requests}, by the attempt) and connections as
 * connections. Loop-confined state lives in {@link LoopPool}; counts shared by the loops are atomics. A
 * subclass makes the connections ({@link #newConnection}, {@link #connect}); the connection makes its streams.
 *
 * @param <C> the protocol's connection
 */
abstract class MultiplexedPool<C extends MultiplexedConnection> implements UpstreamPool {
    private final Endpoint endpoint;
    private final ClusterConfig.Pool config;
    private final CircuitBreakers breakers;
    private final ConnectionSlots slots;
    private final AtomicInteger waiting = new AtomicInteger();
    private final ConcurrentHashMap<EventLoop, LoopPool<C>> loops = new ConcurrentHashMap<>();
    private volatile boolean closed;

    MultiplexedPool(Endpoint endpoint, ClusterConfig.Pool config, CircuitBreakers breakers) {
        this.endpoint = endpoint;
        this.config = config;
        this.breakers = breakers;
        this.slots = new ConnectionSlots(config.maxConnections(), breakers);
    }

    /** A connection not connected yet; {@code pooled} false for a health check's own connection. */
    abstract C newConnection(Promise<MultiplexedConnection> ready, boolean pooled);

    /**
     * Connects {@code conn} to the endpoint on {@code loop} (its handlers in the new channel's pipeline); the
     * future completes with the channel when the transport (TCP and TLS, or the QUIC handshake) is up.
     */
    abstract Future<? extends Channel> connect(EventLoop loop, C conn);

    @Override
    public final Endpoint endpoint() {
        return endpoint;
    }

    final ClusterConfig.Pool config() {
        return config;
    }

    @Override
    public final int connectionCount() {
        return slots.count();
    }

    /** Connections without a stream (a racy snapshot when read off the loops). */
    @Override
    public final int idleCount() {
        int n = 0;
        for (LoopPool<C> lp : loops.values()) {
            for (Object c : lp.connections.toArray()) {
                if (c != null && ((MultiplexedConnection) c).activeStreams() == 0) {
                    n++;
                }
            }
        }
        return n;
    }

    @Override
    public final int pendingCount() {
        return waiting.get();
    }

    @Override
    public final UpstreamStream tryAcquire(EventLoop loop) {
        if (closed) {
            return null;
        }
        LoopPool<C> lp = loops.get(loop);
        if (lp == null || !lp.waiters.isEmpty()) {
            return null; // first come, first served
        }
        C c = lp.withCapacity();
        if (c == null) {
            return null;
        }
        return c.tryOpenStream();
    }

    @Override
    public final Future<UpstreamStream> acquire(EventLoop loop) {
        Promise<UpstreamStream> promise = loop.newPromise();
        if (closed) {
            return promise.setFailure(new PoolClosedException());
        }
        UpstreamStream ready = tryAcquire(loop);
        if (ready != null) {
            return promise.setSuccess(ready);
        }
        LoopPool<C> lp = loops.computeIfAbsent(loop, l -> new LoopPool<>());
        if (!breakers.tryAddPending()) {
            return promise.setFailure(new PoolExhaustedException("too many requests waiting for a stream "
                    + "(max_pending_requests " + breakers.maxPendingRequests() + ")"));
        }
        lp.waiters.add(promise);
        waiting.incrementAndGet();
        promise.addListener(f -> {
            waiting.decrementAndGet();
            breakers.pendingDone();
        });
        grow(loop, lp);
        return promise;
    }

    /**
     * Serves the loop's queue from free slots; if requests remain, opens a connection unless one is on its
     * way already (its SETTINGS will tell how many streams it takes).
     */
    private void grow(EventLoop loop, LoopPool<C> lp) {
        serve(lp);
        if (lp.waiters.isEmpty() || lp.connecting > 0) {
            return;
        }
        ConnectionSlots.Reserve r = slots.tryReserve();
        if (r == ConnectionSlots.Reserve.OK) {
            connectPooled(loop, lp);
        } else if (r == ConnectionSlots.Reserve.CLUSTER_FULL && slots.count() == 0) {
            failAll(lp, slots.clusterFull());
        }
        // POOL_FULL, or the cluster full with connections of ours open: wait for a stream or a slot
    }

    private void connectPooled(EventLoop loop, LoopPool<C> lp) {
        lp.connecting++;
        Promise<MultiplexedConnection> ready = loop.newPromise();
        C conn = newConnection(ready, true);
        connect(loop, conn).addListener(f -> {
            if (!f.isSuccess()) {
                connectionGone();
                ready.tryFailure(f.cause());
                return;
            }
            Channel ch = (Channel) f.getNow();
            ch.closeFuture().addListener(cf -> onClose(conn, lp));
            conn.connected();
        });
        ready.addListener(f -> {
            lp.connecting--;
            if (f.isSuccess()) {
                lp.connections.add(conn);
                if (closed) {
                    conn.channel().close();
                    return;
                }
                grow(loop, lp);
            } else {
                if (conn.channel() != null && conn.channel().isActive()) {
                    conn.channel().close();
                }
                if (lp.connecting == 0 && lp.withCapacity() == null) {
                    failAll(lp, f.cause());
                }
            }
        });
    }

    /** Hands free stream slots of the loop's connections to its queue, oldest waiter first. */
    private void serve(LoopPool<C> lp) {
        Promise<UpstreamStream> w;
        while ((w = lp.waiters.peek()) != null) {
            if (w.isDone()) {
                lp.waiters.poll();
                continue;
            }
            C c = lp.withCapacity();
            if (c == null) {
                return;
            }
            UpstreamStream s = c.tryOpenStream();
            if (s == null) {
                return;
            }
            lp.waiters.poll();
            if (!w.trySuccess(s)) {
                s.abort("acquisition cancelled");
            }
        }
    }

    private void failAll(LoopPool<C> lp, Throwable cause) {
        Promise<UpstreamStream> w;
        while ((w = lp.waiters.poll()) != null) {
            w.tryFailure(cause);
        }
    }

    /**
     * A stream of {@code c} closed, or the endpoint raised its limit (SETTINGS, MAX_STREAMS): serve the queue
     * of its loop, and open a connection if the endpoint's limit leaves requests waiting.
     */
    final void streamSlotFreed(MultiplexedConnection c) {
        EventLoop loop = c.channel().eventLoop();
        LoopPool<C> lp = loops.get(loop);
        if (lp != null && !lp.waiters.isEmpty()) {
            grow(loop, lp);
        }
    }

    /** {@code c} got GOAWAY (or idled out): no new streams; queued requests need another connection. */
    final void connectionDraining(MultiplexedConnection c) {
        EventLoop loop = c.channel().eventLoop();
        LoopPool<C> lp = loops.get(loop);
        if (lp != null) {
            lp.connections.remove(c);
            if (!lp.waiters.isEmpty()) {
                grow(loop, lp);
            }
        }
    }

    private void onClose(C conn, LoopPool<C> lp) {
        lp.connections.remove(conn);
        connectionGone();
    }

    /** A connection slot freed up: loops with a queue may open a connection of their own. */
    private void connectionGone() {
        slots.release();
        for (var e : loops.entrySet()) {
            EventLoop loop = e.getKey();
            LoopPool<C> lp = e.getValue();
            if (!lp.waiters.isEmpty() && !loop.isShuttingDown()) {
                loop.execute(() -> grow(loop, lp));
            }
        }
    }

    @Override
    public final Future<UpstreamStream> openDedicated(EventLoop loop) {
        Promise<UpstreamStream> promise = loop.newPromise();
        Promise<MultiplexedConnection> ready = loop.newPromise();
        C conn = newConnection(ready, false);
        connect(loop, conn).addListener(f -> {
            if (f.isSuccess()) {
                conn.connected();
            } else {
                ready.tryFailure(f.cause());
            }
        });
        ready.addListener(f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
                return;
            }
            UpstreamStream s = conn.tryOpenStream();
            if (s == null) {
                conn.channel().close();
                promise.tryFailure(new java.io.IOException("cannot open a stream to " + endpoint));
            } else if (!promise.trySuccess(s)) {
                conn.channel().close();
            }
        });
        return promise;
    }

    @Override
    public final void close() {
        closed = true;
        for (var e : loops.entrySet()) {
            LoopPool<C> lp = e.getValue();
            e.getKey().execute(() -> {
                for (C c : new ArrayList<>(lp.connections)) {
                    if (c.activeStreams() == 0) {
                        c.channel().close();
                    } else {
                        c.drainAfterStreams();
                    }
                }
                failAll(lp, new PoolClosedException());
            });
        }
    }

    /** Loop-confined state: touched only on its event loop (the list is read racily by {@link #idleCount}). */
    private static final class LoopPool<C extends MultiplexedConnection> {
        final List<C> connections = new CopyOnWriteArrayList<>();
        final ArrayDeque<Promise<UpstreamStream>> waiters = new ArrayDeque<>();
        int connecting;

        /** The connection with a free slot that has the most streams already (packs streams, lets others idle out). */
        C withCapacity() {
            C best = null;
            for (int i = 0, n = connections.size(); i < n; i++) {
                C c = connections.get(i);
                if (c.hasCapacity() && (best == null || c.activeStreams() > best.activeStreams())) {
                    best = c;
                }
            }
            return best;
        }
    }
}
