package io.h3relay.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

/**
 * What {@link MultiplexedPool} needs of one connection carrying many streams (HTTP/2: {@link
 * Http2UpstreamConnection}, HTTP/3: {@link Http3UpstreamConnection}), and the stream accounting both share:
 * streams open now and opened so far ({@code pool.max_requests_per_connection}), the idle time, draining after
 * GOAWAY or the pool's close, and when to close. A subclass tells whether the endpoint takes one more stream
 * now ({@link #peerTakesAnotherStream}: SETTINGS_MAX_CONCURRENT_STREAMS or QUIC stream credit), opens the
 * stream's channel and handles its protocol's connection-level frames and timers. It is the handler the
 * connection's pipeline ends with; confined to the connection's event loop.
 */
abstract class MultiplexedConnection extends ChannelInboundHandlerAdapter {
    private final MultiplexedPool<?> pool;
    /** Completes when the endpoint's SETTINGS arrived: the connection takes streams from then on. */
    final Promise<MultiplexedConnection> ready;
    /** False for a health check's dedicated connection: it closes with its one stream. */
    final boolean pooled;
    private int active;
    private long opened;
    private boolean goAway;
    /** The pool closed: no new streams, close once the last one ends. */
    private boolean closing;
    /** Retired by the connection itself ({@link #retire}): no new streams, close once the last one ends. */
    private boolean retired;
    private long idleSince = System.nanoTime();

    MultiplexedConnection(MultiplexedPool<?> pool, Promise<MultiplexedConnection> ready, boolean pooled) {
        this.pool = pool;
        this.ready = ready;
        this.pooled = pooled;
    }

    /** The connection's channel (the TCP channel of h2, the {@code QuicChannel} of h3); null until it exists. */
    abstract Channel channel();

    /** Whether the endpoint takes a stream beyond the {@code active} ones open (its own limit, not ours). */
    abstract boolean peerTakesAnotherStream(int active);

    /** A new stream of this connection, not open yet. */
    abstract MultiplexedStream newStream();

    /** The transport is up (TCP and TLS, or the QUIC handshake); ready once the endpoint's SETTINGS arrive. */
    abstract void connected();

    MultiplexedPool<?> pool() {
        return pool;
    }

    /** Streams open now. */
    final int activeStreams() {
        return active;
    }

    /** When the last stream ended (or the connection was made), in {@link System#nanoTime()}. */
    final long idleSince() {
        return idleSince;
    }

    /** True when this connection carried streams already (asked before opening the next one). */
    final boolean reused() {
        return opened > 0;
    }

    /** True when a new stream may open here now: ready, no GOAWAY, under the endpoint's limits and ours. */
    final boolean hasCapacity() {
        if (goAway || closing || retired || !channel().isActive() || !ready.isSuccess()) {
            return false;
        }
        long maxPerConnection = pool.config().maxRequestsPerConnection();
        if (maxPerConnection > 0 && opened >= maxPerConnection) {
            return false;
        }
        int ours = pool.config().maxConcurrentStreams();
        if (ours > 0 && active >= ours) {
            return false;
        }
        return peerTakesAnotherStream(active);
    }

    /** Will take no new stream again (GOAWAY, the pool's close, retired, or max_requests_per_connection used up). */
    final boolean isDraining() {
        long maxPerConnection = pool.config().maxRequestsPerConnection();
        return goAway || closing || retired || !channel().isActive()
                || (maxPerConnection > 0 && opened >= maxPerConnection);
    }

    /**
     * A stream on this connection, or null when its channel could not be opened at once (registration is
     * synchronous on the loop, so it normally is). Counted at once so that the caller's next check sees the
     * slot taken.
     */
    final MultiplexedStream tryOpenStream() {
        MultiplexedStream s = newStream();
        active++;
        opened++;
        Future<? extends Channel> f = s.open();
        if (f.isDone() && f.isSuccess()) {
            return s;
        }
        if (f.isDone()) {
            streamClosed(); // never registered: no close listener will give the slot back
            return null;
        }
        // Not expected on the loop: close it when it completes.
        f.addListener(x -> {
            if (x.isSuccess()) {
                ((Channel) x.getNow()).close();
            } else {
                streamClosed();
            }
        });
        return null;
    }

    /** A stream of this connection closed (its channel is gone). */
    final void streamClosed() {
        active--;
        if (active == 0) {
            idleSince = System.nanoTime();
        }
        if (!pooled) {
            closeAfterThisTurn(); // a health check's connection: its one stream is done
            return;
        }
        if (isDraining() && active == 0) {
            closeAfterThisTurn(); // drained after GOAWAY (or its request quota): nothing more can use it
            return;
        }
        pool.streamSlotFreed(this);
    }

    /** The endpoint sent GOAWAY: no new streams; the pool drains this connection while new requests go elsewhere. */
    final void goneAway() {
        goAway = true;
        drain();
    }

    /**
     * The connection takes no new stream from now on, for a reason of its own (HTTP/3: too many streams Netty
     * keeps): drained as after a GOAWAY, new requests go to other connections, it closes after its last stream.
     */
    final void retire() {
        if (isDraining()) {
            return;
        }
        retired = true;
        drain();
    }

    /** No new streams any more (set by the caller): new requests go elsewhere; closed now if none is open. */
    private void drain() {
        pool.connectionDraining(this);
        if (active == 0) {
            closeAfterThisTurn(); // e.g. a GOAWAY, read inside the connection's read
        }
    }

    /**
     * Closes the connection in a task of its event loop: a stream's end is usually seen inside the connection's
     * read (the endpoint's FIN or reset), and a QUIC connection closed there never sent its CONNECTION_CLOSE
     * (Netty 4.2.18 sends the packets a read produced after the read, and by then the connection is gone): the
     * endpoint kept it until its own idle timeout.
     */
    private void closeAfterThisTurn() {
        Channel ch = channel();
        if (ch.eventLoop().isShuttingDown()) {
            ch.close(); // no task runs any more
            return;
        }
        ch.eventLoop().execute(() -> ch.close());
    }

    /** The pool closed: streams in flight finish, then the connection closes. */
    final void drainAfterStreams() {
        closing = true;
        if (active == 0) {
            channel().close();
        }
    }

    /** Closes after {@code pool.idle_timeout} without a stream: out of the pool's list first. */
    final void closeIdle() {
        closing = true;
        pool.connectionDraining(this);
        channel().close();
    }
}
