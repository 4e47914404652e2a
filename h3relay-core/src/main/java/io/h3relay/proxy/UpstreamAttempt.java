package io.h3relay.proxy;

import io.h3relay.exchange.ProxyError;
import io.h3relay.exchange.ErrorCode;
import io.h3relay.exchange.AttemptView;
import io.h3relay.cluster.Cluster;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.cluster.EndpointPool;
import io.h3relay.cluster.UpstreamConnection;
import io.h3relay.cluster.UpstreamListener;
import io.netty.channel.EventLoop;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;

import java.net.ConnectException;

/**
 * One upstream request of an exchange: acquires a pooled connection to one endpoint and relays what the
 * connection reads to its {@link Forwarding}. Runs on the downstream channel's event loop, which is also
 * the upstream connection's loop.
 */
final class UpstreamAttempt implements UpstreamListener, AttemptView {
    private final Forwarding forwarding;
    private final Cluster cluster;
    private final EndpointPool pool;
    private final long startNanos = System.nanoTime();
    private int number;
    private int status;
    private ProxyError failure;
    private Future<UpstreamConnection> acquiring;
    private UpstreamConnection conn;
    private boolean counted;
    private boolean finished;

    UpstreamAttempt(Forwarding forwarding, Cluster cluster, EndpointPool pool) {
        this.forwarding = forwarding;
        this.cluster = cluster;
        this.pool = pool;
    }

    @Override
    public Endpoint endpoint() {
        return pool.endpoint();
    }

    // ---- AttemptView (for the exchange's observer) ----------------------------------------------

    @Override
    public String clusterName() {
        return cluster.name();
    }

    @Override
    public int number() {
        return number;
    }

    void number(int n) {
        this.number = n;
    }

    @Override
    public long startNanos() {
        return startNanos;
    }

    @Override
    public int status() {
        return status;
    }

    @Override
    public ProxyError failure() {
        return failure;
    }

    /** Records why the attempt failed (before {@link #finish}); the first reason wins. */
    void failed(ProxyError error) {
        if (!finished && failure == null) {
            failure = error;
        }
    }

    /** May fail at once (circuit breaker), calling back into the forwarding before it returns. */
    void start(EventLoop loop) {
        if (!cluster.breakers().tryStartRequest()) {
            forwarding.onAttemptFailed(this, new ProxyError(ErrorCode.UPSTREAM_OVERLOADED, "cluster "
                    + cluster.name() + " has " + cluster.breakers().maxRequests()
                    + " requests in flight (circuit_breaker max_requests)"));
            return;
        }
        counted = true;
        endpoint().requestStarted();
        acquiring = pool.acquire(loop);
        acquiring.addListener(this::onAcquired);
    }

    private void onAcquired(Future<? super UpstreamConnection> f) {
        if (finished) {
            // The exchange ended while we were connecting: the fresh connection is clean, keep it.
            if (f.isSuccess()) {
                ((UpstreamConnection) f.getNow()).release(true);
            }
            return;
        }
        if (!f.isSuccess()) {
            forwarding.onAttemptFailed(this, connectError(f.cause()));
            return;
        }
        conn = (UpstreamConnection) f.getNow();
        conn.bind(this);
        forwarding.onUpstreamReady(this);
    }

    private ProxyError connectError(Throwable cause) {
        String where = "endpoint " + endpoint();
        if (cause instanceof EndpointPool.PoolExhaustedException) {
            return new ProxyError(ErrorCode.UPSTREAM_OVERLOADED, "cluster " + cluster.name() + ", " + where + ": "
                    + cause.getMessage());
        }
        if (cause instanceof EndpointPool.PoolClosedException) {
            return new ProxyError(ErrorCode.NO_ENDPOINT_AVAILABLE, where + ": " + cause.getMessage());
        }
        if (cause instanceof io.h3relay.cluster.UpstreamConnector.UpstreamTlsException) {
            return new ProxyError(ErrorCode.UPSTREAM_TLS_FAILED, "TLS handshake with " + where + " failed", cause);
        }
        String reason = cause instanceof ConnectTimeoutException ? "connect timed out"
                : cause instanceof ConnectException ? "connection refused" : String.valueOf(cause.getMessage());
        return new ProxyError(ErrorCode.UPSTREAM_CONNECT_FAILED, "connect to " + where + " failed: " + reason, cause);
    }

    boolean isReady() {
        return conn != null && !finished;
    }

    /** True when the connection served earlier requests: a close racing our request is then likely benign. */
    @Override
    public boolean reusedConnection() {
        return conn != null && conn.isReused();
    }

    void write(HttpObject msg) {
        conn.channel().write(msg, conn.channel().voidPromise());
    }

    void flush() {
        conn.channel().flush();
    }

    boolean isWritable() {
        return conn.channel().isWritable();
    }

    /** Backpressure from downstream: stop or resume reading the response. */
    void readResponse(boolean on) {
        if (isReady()) {
            conn.channel().config().setAutoRead(on);
        }
    }

    @Override
    public void onResponse(HttpObject msg) {
        if (finished) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!msg.decoderResult().isSuccess()) {
            ReferenceCountUtil.release(msg);
            forwarding.onAttemptFailed(this, new ProxyError(ErrorCode.UPSTREAM_BAD_RESPONSE,
                    "invalid response from endpoint " + endpoint() + ": " + msg.decoderResult().cause().getMessage()));
            return;
        }
        if (msg instanceof HttpResponse res && res.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            // 1xx interim responses: we answered Expect ourselves; drop them and keep reading.
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse res) {
            status = res.status().code();
            forwarding.ex.observer.upstreamResponse(forwarding.ex, this);
        }
        forwarding.onResponse(this, msg);
    }

    @Override
    public void onReadComplete() {
        if (!finished) {
            forwarding.onResponseReadComplete(this);
        }
    }

    @Override
    public void onWritabilityChanged(boolean writable) {
        if (!finished && writable) {
            forwarding.onUpstreamWritable(this);
        }
    }

    @Override
    public void onClosed(Throwable cause) {
        if (finished) {
            return;
        }
        String why = cause == null ? "closed the connection" : "failed: " + cause.getMessage();
        forwarding.onAttemptFailed(this, new ProxyError(ErrorCode.UPSTREAM_RESET,
                "endpoint " + endpoint() + " " + why + " before the response completed", cause));
    }

    /** The attempt ended; the connection goes back to the pool if {@code reusable}, else it is closed. */
    void finish(boolean reusable) {
        if (finished) {
            return;
        }
        finished = true;
        forwarding.ex.observer.attemptEnded(forwarding.ex, this);
        if (!counted) {
            return;
        }
        cluster.breakers().requestFinished();
        endpoint().requestFinished();
        if (conn != null) {
            conn.release(reusable);
        } else if (acquiring != null) {
            acquiring.cancel(false); // leave the pool's queue
        }
    }
}
