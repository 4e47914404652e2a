package io.h3relay.upstream;

import io.h3relay.config.ClusterConfig;
import io.h3relay.endpoint.Endpoint;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The multiplexed HTTP/3 {@link UpstreamPool} ({@code protocol: http3}): per event loop, QUIC connections to
 * one endpoint each carrying many request streams, up to the endpoint's bidirectional stream credit and
 * {@code pool.max_concurrent_streams}; a new connection when every connection of the loop is full, within
 * {@code pool.max_connections} (shared by the loops) and the cluster's connection breaker. A connection that
 * received GOAWAY takes no new stream: its streams finish while new requests open a new connection.
 *
 * <pre>
 *   acquire(loop) ─► a connection of this loop with a free stream? ─yes─► open a request stream on it
 *                        │ no
 *                        ▼
 *                 queue; no connection on its way? ─► reserve a slot, QUIC handshake; when the endpoint's
 *                 SETTINGS arrive the queue is served from it (and from streams that close, and MAX_STREAMS)
 * </pre>
 *
 * The same shape as {@link Http2Pool} (which see); what differs is the connection ({@link QuicUpstreamConnector}:
 * a UDP socket and a QUIC connection on the caller's loop) and the stream ({@link Http3UpstreamStream}).
 * Failed handshakes are {@link QuicUpstreamConnector.QuicConnectException}s, which {@link FallbackPool} reads.
 */
public final class Http3Pool implements UpstreamPool {
    private static final Logger LOG = LoggerFactory.getLogger(Http3Pool.class);

    private final Endpoint endpoint;
    private final ClusterConfig.Pool config;
    private final QuicUpstreamConnector connector;
    private final CircuitBreakers breakers;
    private final ConnectionSlots slots;
    private final AtomicInteger waiting = new AtomicInteger();
    private final ConcurrentHashMap<EventLoop, LoopPool> loops = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public Http3Pool(Endpoint endpoint, ClusterConfig.Pool config, QuicUpstreamConnector connector,
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

    ClusterConfig.Pool config() {
        return config;
    }

    /** The cluster's connect_timeout: bounds the QUIC handshake and the wait for the endpoint's SETTINGS. */
    java.time.Duration connectTimeout() {
        return connector.config().connectTimeout();
    }

    @Override
    public UpstreamProtocol protocol() {
        return UpstreamProtocol.HTTP_3;
    }

    @Override
    public int connectionCount() {
        return slots.count();
    }

    /** Connections without a stream (a racy snapshot when read off the loops). */
    @Override
    public int idleCount() {
        int n = 0;
        for (LoopPool lp : loops.values()) {
            for (Http3UpstreamConnection c : lp.connections.toArray(new Http3UpstreamConnection[0])) {
                if (c != null && c.activeStreams() == 0) {
                    n++;
                }
            }
        }
        return n;
    }

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
        if (lp == null || !lp.waiters.isEmpty()) {
            return null; // first come, first served
        }
        Http3UpstreamConnection c = lp.withCapacity();
        if (c == null) {
            return null;
        }
        return openNow(c);
    }

    /** A stream on {@code c}, or null when the child channel could not be opened at once. */
    private Http3UpstreamStream openNow(Http3UpstreamConnection c) {
        Http3UpstreamStream s = new Http3UpstreamStream(c);
        Future<QuicStreamChannel> f = c.openStream(s);
        if (f.isDone() && f.isSuccess()) {
            return s;
        }
        if (f.isDone()) {
            c.streamClosed(); // never registered: no close listener will give the slot back
            return null;
        }
        {
            // Not expected on the loop (child registration is synchronous): close it when it completes.
            f.addListener(x -> {
                if (x.isSuccess()) {
                    ((Channel) x.getNow()).close();
                } else {
                    c.streamClosed();
                }
            });
        }
        return null;
    }

    @Override
    public Future<UpstreamStream> acquire(EventLoop loop) {
        Promise<UpstreamStream> promise = loop.newPromise();
        if (closed) {
            return promise.setFailure(new PoolClosedException());
        }
        UpstreamStream ready = tryAcquire(loop);
        if (ready != null) {
            return promise.setSuccess(ready);
        }
        LoopPool lp = loops.computeIfAbsent(loop, l -> new LoopPool());
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
     * The loop's queue is longer than what its connections can take: open a connection unless one is on
     * its way already (its SETTINGS will tell how many streams it takes).
     */
    private void grow(EventLoop loop, LoopPool lp) {
        serve(lp);
        if (lp.waiters.isEmpty() || lp.connecting > 0) {
            return;
        }
        ConnectionSlots.Reserve r = slots.tryReserve();
        if (r == ConnectionSlots.Reserve.OK) {
            connect(loop, lp);
        } else if (r == ConnectionSlots.Reserve.CLUSTER_FULL && slots.count() == 0) {
            failAll(lp, slots.clusterFull());
        }
        // POOL_FULL, or the cluster full with connections of ours open: wait for a stream or a slot
    }

    private void connect(EventLoop loop, LoopPool lp) {
        lp.connecting++;
        Promise<Http3UpstreamConnection> ready = loop.newPromise();
        Http3UpstreamConnection conn = new Http3UpstreamConnection(this, ready, true);
        connector.connect(loop, endpoint, conn::addHandlers).addListener(f -> {
            if (!f.isSuccess()) {
                connectionGone();
                ready.tryFailure(f.cause());
                return;
            }
            QuicChannel ch = (QuicChannel) f.getNow();
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
                serve(lp);
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
    private void serve(LoopPool lp) {
        Promise<UpstreamStream> w;
        while ((w = lp.waiters.peek()) != null) {
            if (w.isDone()) {
                lp.waiters.poll();
                continue;
            }
            Http3UpstreamConnection c = lp.withCapacity();
            if (c == null) {
                return;
            }
            Http3UpstreamStream s = openNow(c);
            if (s == null) {
                return;
            }
            lp.waiters.poll();
            if (!w.trySuccess(s)) {
                s.abort("acquisition cancelled");
            }
        }
    }

    private void failAll(LoopPool lp, Throwable cause) {
        Promise<UpstreamStream> w;
        while ((w = lp.waiters.poll()) != null) {
            w.tryFailure(cause);
        }
    }

    /** A stream of {@code c} closed, or its SETTINGS raised the limit: serve the queue of its loop. */
    void streamSlotFreed(Http3UpstreamConnection c) {
        EventLoop loop = c.channel().eventLoop();
        LoopPool lp = loops.get(loop);
        if (lp != null && !lp.waiters.isEmpty()) {
            grow(loop, lp); // serves from free slots; opens a connection if the endpoint's credit is used up
        }
    }

    /** {@code c} got GOAWAY: no new streams; queued requests need another connection. */
    void connectionDraining(Http3UpstreamConnection c) {
        EventLoop loop = c.channel().eventLoop();
        LoopPool lp = loops.get(loop);
        if (lp != null) {
            lp.connections.remove(c);
            if (!lp.waiters.isEmpty()) {
                grow(loop, lp);
            }
        }
    }

    private void onClose(Http3UpstreamConnection conn, LoopPool lp) {
        lp.connections.remove(conn);
        connectionGone();
    }

    /** A connection slot freed up: loops with a queue may open a connection of their own. */
    private void connectionGone() {
        slots.release();
        for (var e : loops.entrySet()) {
            EventLoop loop = e.getKey();
            LoopPool lp = e.getValue();
            if (!lp.waiters.isEmpty() && !loop.isShuttingDown()) {
                loop.execute(() -> grow(loop, lp));
            }
        }
    }

    @Override
    public Future<UpstreamStream> openDedicated(EventLoop loop) {
        Promise<UpstreamStream> promise = loop.newPromise();
        Promise<Http3UpstreamConnection> ready = loop.newPromise();
        Http3UpstreamConnection conn = new Http3UpstreamConnection(this, ready, false);
        connector.connect(loop, endpoint, conn::addHandlers).addListener(f -> {
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
            Http3UpstreamStream s = openNow(conn);
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
    public void close() {
        closed = true;
        for (var e : loops.entrySet()) {
            LoopPool lp = e.getValue();
            e.getKey().execute(() -> {
                for (Http3UpstreamConnection c : new ArrayList<>(lp.connections)) {
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
    private static final class LoopPool {
        final List<Http3UpstreamConnection> connections = new java.util.concurrent.CopyOnWriteArrayList<>();
        final ArrayDeque<Promise<UpstreamStream>> waiters = new ArrayDeque<>();
        int connecting;

        /** The connection with a free slot that has the most streams already (packs streams, lets others idle out). */
        Http3UpstreamConnection withCapacity() {
            Http3UpstreamConnection best = null;
            for (int i = 0, n = connections.size(); i < n; i++) {
                Http3UpstreamConnection c = connections.get(i);
                if (c.hasCapacity() && (best == null || c.activeStreams() > best.activeStreams())) {
                    best = c;
                }
            }
            return best;
        }
    }
}
