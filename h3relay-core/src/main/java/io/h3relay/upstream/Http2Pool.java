package io.h3relay.upstream;

import io.h3relay.config.ClusterConfig;
import io.h3relay.endpoint.Endpoint;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
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
 * The multiplexed HTTP/2 {@link UpstreamPool} ({@code protocol: http2} over TLS with ALPN h2, or {@code h2c}
 * by prior knowledge): per event loop, connections to one endpoint each carrying many streams, up to the
 * endpoint's SETTINGS_MAX_CONCURRENT_STREAMS and {@code pool.max_concurrent_streams}; a new connection
 * when every connection of the loop is full, within {@code pool.max_connections} (shared by the loops) and
 * the cluster's connection breaker. A connection that received GOAWAY takes no new stream: its streams
 * finish on it while new requests open a new connection, and it closes once drained.
 *
 * <pre>
 *   acquire(loop) ─► a connection of this loop with a free stream slot? ─yes─► open a stream on it
 *                        │ no
 *                        ▼
 *                 queue; no connection on its way? ─► reserve a slot, connect; when its SETTINGS arrive
 *                 the queue is served from it (and from streams that close on the loop's connections)
 * </pre>
 *
 * Circuit breakers count streams as requests ({@code max_requests}, by the attempt) and connections as
 * connections. Loop-confined state lives in {@link LoopPool}; counts shared by the loops are atomics.
 */
public final class Http2Pool implements UpstreamPool {
    private static final Logger LOG = LoggerFactory.getLogger(Http2Pool.class);
    /** Our receive window per stream: what one endpoint may send ahead of a slow client on one stream. */
    static final int STREAM_WINDOW = 1 << 20;
    /** Response header lists up to 64 KiB, as on HTTP/1.1. */
    private static final int MAX_RESPONSE_HEADERS = 64 * 1024;

    private final Endpoint endpoint;
    private final ClusterConfig.Pool config;
    private final UpstreamConnector connector;
    private final CircuitBreakers breakers;
    private final boolean tls;
    private final ConnectionSlots slots;
    private final AtomicInteger waiting = new AtomicInteger();
    private final ConcurrentHashMap<EventLoop, LoopPool> loops = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public Http2Pool(Endpoint endpoint, ClusterConfig.Pool config, UpstreamConnector connector,
                     CircuitBreakers breakers, boolean tls) {
        this.endpoint = endpoint;
        this.config = config;
        this.connector = connector;
        this.breakers = breakers;
        this.slots = new ConnectionSlots(config.maxConnections(), breakers);
        this.tls = tls;
    }

    @Override
    public Endpoint endpoint() {
        return endpoint;
    }

    ClusterConfig.Pool config() {
        return config;
    }

    boolean tls() {
        return tls;
    }

    @Override
    public UpstreamProtocol protocol() {
        return tls ? UpstreamProtocol.HTTP_2 : UpstreamProtocol.H2C;
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
            for (Http2UpstreamConnection c : lp.connections.toArray(new Http2UpstreamConnection[0])) {
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
        Http2UpstreamConnection c = lp.withCapacity();
        if (c == null) {
            return null;
        }
        return openNow(c);
    }

    /** A stream on {@code c}, or null when the child channel could not be opened at once. */
    private Http2UpstreamStream openNow(Http2UpstreamConnection c) {
        Http2UpstreamStream s = new Http2UpstreamStream(c);
        Future<Http2StreamChannel> f = c.openStream(s);
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
        Promise<Http2UpstreamConnection> ready = loop.newPromise();
        Http2UpstreamConnection conn = new Http2UpstreamConnection(this, ready, true);
        connector.connect(loop, endpoint, tls, p -> addHttp2Handlers(p, conn)).addListener(f -> {
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
                serve(lp);
                grow(loop, lp);
            } else {
                if (lp.connecting == 0 && lp.withCapacity() == null) {
                    failAll(lp, f.cause());
                }
            }
        });
    }

    /** Frame codec, multiplexer (one child channel per stream) and the connection's own handler. */
    private static void addHttp2Handlers(ChannelPipeline p, Http2UpstreamConnection conn) {
        Http2Settings settings = Http2Settings.defaultSettings()
                .pushEnabled(false)
                .initialWindowSize(STREAM_WINDOW)
                .maxHeaderListSize(MAX_RESPONSE_HEADERS);
        p.addLast("h2", Http2FrameCodecBuilder.forClient().initialSettings(settings).validateHeaders(true).build());
        p.addLast("h2-mux", new Http2MultiplexHandler(REFUSE_PUSH));
        p.addLast("h2-connection", conn);
    }

    /** Server push is disabled in our SETTINGS; a pushed stream is closed at once. */
    private static final ChannelHandler REFUSE_PUSH = new RefusePush();

    @ChannelHandler.Sharable
    private static final class RefusePush extends ChannelInboundHandlerAdapter {
        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.close();
        }
    }

    /** Hands free stream slots of the loop's connections to its queue, oldest waiter first. */
    private void serve(LoopPool lp) {
        Promise<UpstreamStream> w;
        while ((w = lp.waiters.peek()) != null) {
            if (w.isDone()) {
                lp.waiters.poll();
                continue;
            }
            Http2UpstreamConnection c = lp.withCapacity();
            if (c == null) {
                return;
            }
            Http2UpstreamStream s = openNow(c);
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
    void streamSlotFreed(Http2UpstreamConnection c) {
        LoopPool lp = loops.get(c.channel().eventLoop());
        if (lp != null && !lp.waiters.isEmpty()) {
            serve(lp);
        }
    }

    /** {@code c} got GOAWAY: no new streams; queued requests need another connection. */
    void connectionDraining(Http2UpstreamConnection c) {
        EventLoop loop = c.channel().eventLoop();
        LoopPool lp = loops.get(loop);
        if (lp != null) {
            lp.connections.remove(c);
            if (!lp.waiters.isEmpty()) {
                grow(loop, lp);
            }
        }
    }

    private void onClose(Http2UpstreamConnection conn, LoopPool lp) {
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
        Promise<Http2UpstreamConnection> ready = loop.newPromise();
        Http2UpstreamConnection conn = new Http2UpstreamConnection(this, ready, false);
        connector.connect(loop, endpoint, tls, p -> addHttp2Handlers(p, conn)).addListener(f -> {
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
            Http2UpstreamStream s = openNow(conn);
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
                for (Http2UpstreamConnection c : new ArrayList<>(lp.connections)) {
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
        final List<Http2UpstreamConnection> connections = new java.util.concurrent.CopyOnWriteArrayList<>();
        final ArrayDeque<Promise<UpstreamStream>> waiters = new ArrayDeque<>();
        int connecting;

        /** The connection with a free slot that has the most streams already (packs streams, lets others idle out). */
        Http2UpstreamConnection withCapacity() {
            Http2UpstreamConnection best = null;
            for (int i = 0, n = connections.size(); i < n; i++) {
                Http2UpstreamConnection c = connections.get(i);
                if (c.hasCapacity() && (best == null || c.activeStreams() > best.activeStreams())) {
                    best = c;
                }
            }
            return best;
        }
    }
}
