package io.h3relay.cluster;

import io.h3relay.endpoint.Endpoint;
import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;

/**
 * One pooled connection to an endpoint. Used by one attempt at a time, on its own event loop only.
 */
public final class UpstreamConnection {
    private final Channel channel;
    private final EndpointPool pool;
    private final UpstreamConnectionHandler handler;
    private long requests;
    private boolean inUse;
    private ScheduledFuture<?> idleTimer;
    private long idleSince;

    UpstreamConnection(Channel channel, EndpointPool pool, UpstreamConnectionHandler handler) {
        this.channel = channel;
        this.pool = pool;
        this.handler = handler;
    }

    public Channel channel() {
        return channel;
    }

    public Endpoint endpoint() {
        return pool.endpoint();
    }

    /** True when this connection served a request before the current one (a keep-alive race is possible). */
    public boolean isReused() {
        return requests > 1;
    }

    /** Binds the attempt that will use this connection; counts the request. */
    public void bind(UpstreamListener listener) {
        handler.bind(listener);
        requests++;
    }

    /**
     * Gives the connection back. {@code reusable} means the last exchange on it ended cleanly (request and
     * response complete, keep-alive on both sides); otherwise it is closed.
     */
    public void release(boolean reusable) {
        handler.unbind();
        pool.release(this, reusable);
    }

    long requests() {
        return requests;
    }

    void inUse(boolean value) {
        this.inUse = value;
    }

    /**
     * Back in the pool: closes after {@code idleNanos} without use. The timer is lazy: one per connection,
     * re-armed for the remaining time when it finds the connection was used meanwhile, so a request costs
     * no timer scheduling or cancelling.
     */
    void idleFrom(long now, long idleNanos) {
        idleSince = now;
        if (idleTimer == null && idleNanos > 0) {
            armIdleTimer(idleNanos, idleNanos);
        }
    }

    private void armIdleTimer(long delayNanos, long idleNanos) {
        idleTimer = channel.eventLoop().schedule(() -> {
            idleTimer = null;
            if (inUse || !channel.isActive()) {
                return; // the next release arms it again
            }
            long left = idleSince + idleNanos - System.nanoTime();
            if (left <= 0) {
                channel.close();
            } else {
                armIdleTimer(left, idleNanos);
            }
        }, delayNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }
}
