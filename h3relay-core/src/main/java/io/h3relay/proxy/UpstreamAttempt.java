package io.h3relay.proxy;

import io.h3relay.cluster.Cluster;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.exchange.AttemptView;
import io.h3relay.exchange.ErrorCode;
import io.h3relay.exchange.ProxyError;
import io.h3relay.upstream.UpstreamConnector;
import io.h3relay.upstream.UpstreamFailure;
import io.h3relay.upstream.UpstreamPool;
import io.h3relay.upstream.UpstreamProtocol;
import io.h3relay.upstream.UpstreamStream;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;

import java.net.ConnectException;

/**
 * One upstream request of an exchange: takes an {@link UpstreamStream} from the endpoint's pool and relays
 * what it reads to its {@link Forwarding}. Knows nothing of the stream's protocol. Runs on the downstream
 * channel's event loop, which is also the stream's loop.
 */
final class UpstreamAttempt implements UpstreamStream.Listener, AttemptView {
    private final Forwarding forwarding;
    private final Cluster cluster;
    private final UpstreamPool pool;
    private final long startNanos = System.nanoTime();
    private int number;
    private int status;
    private ProxyError failure;
    private Future<UpstreamStream> acquiring;
    private UpstreamStream stream;
    private boolean counted;
    private boolean finished;

    UpstreamAttempt(Forwarding forwarding, Cluster cluster, UpstreamPool pool) {
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
    public UpstreamProtocol protocol() {
        return stream != null ? stream.protocol() : pool.protocol();
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

    /** True when the stream's connection served earlier requests: a close racing our request is then likely benign. */
    @Override
    public boolean reusedConnection() {
        return stream != null && stream.isReused();
    }

    // ---- lifecycle -------------------------------------------------------------------------------

    /** May fail or succeed at once (circuit breaker, idle connection), calling back before it returns. */
    void start(EventLoop loop) {
        if (!cluster.breakers().tryStartRequest()) {
            forwarding.onAttemptFailed(this, new ProxyError(ErrorCode.UPSTREAM_OVERLOADED, "cluster "
                    + cluster.name() + " has " + cluster.breakers().maxRequests()
                    + " requests in flight (circuit_breaker max_requests)"), false);
            return;
        }
        counted = true;
        endpoint().requestStarted();
        UpstreamStream ready = pool.tryAcquire(loop);
        if (ready != null) {
            ready(ready);
            return;
        }
        acquiring = pool.acquire(loop);
        acquiring.addListener(this::onAcquired);
    }

    private void onAcquired(Future<? super UpstreamStream> f) {
        acquiring = null;
        if (finished) {
            // The exchange ended while we were connecting: the fresh connection is clean, keep it.
            if (f.isSuccess()) {
                ((UpstreamStream) f.getNow()).finish(true);
            }
            return;
        }
        if (!f.isSuccess()) {
            forwarding.onAttemptFailed(this, connectError(f.cause()), false);
            return;
        }
        ready((UpstreamStream) f.getNow());
    }

    private void ready(UpstreamStream s) {
        stream = s;
        s.start(this);
        forwarding.onUpstreamReady(this);
    }

    private ProxyError connectError(Throwable cause) {
        String where = "endpoint " + endpoint();
        if (cause instanceof UpstreamPool.PoolExhaustedException) {
            return new ProxyError(ErrorCode.UPSTREAM_OVERLOADED, "cluster " + cluster.name() + ", " + where + ": "
                    + cause.getMessage());
        }
        if (cause instanceof UpstreamPool.PoolClosedException) {
            return new ProxyError(ErrorCode.NO_ENDPOINT_AVAILABLE, where + ": " + cause.getMessage());
        }
        if (cause instanceof UpstreamConnector.UpstreamTlsException) {
            return new ProxyError(ErrorCode.UPSTREAM_TLS_FAILED, "TLS handshake with " + where + " failed", cause);
        }
        String reason = cause instanceof ConnectTimeoutException ? "connect timed out"
                : cause instanceof ConnectException ? "connection refused" : String.valueOf(cause.getMessage());
        return new ProxyError(ErrorCode.UPSTREAM_CONNECT_FAILED, "connect to " + where + " failed: " + reason, cause);
    }

    boolean isReady() {
        return stream != null && !finished;
    }

    UpstreamStream stream() {
        return stream;
    }

    void writeHead(HttpRequest head, boolean hasBody) {
        stream.writeHead(head, hasBody);
    }

    void write(HttpContent content) {
        stream.writeBody(content);
    }

    void writeTunnelBytes(io.netty.buffer.ByteBuf bytes) {
        stream.writeTunnelBytes(bytes);
    }

    void flush() {
        stream.flush();
    }

    boolean isWritable() {
        return stream.isWritable();
    }

    /** Backpressure from downstream: stop or resume reading the response. */
    void readResponse(boolean on) {
        if (isReady()) {
            stream.readResponse(on);
        }
    }

    /** More interim (1xx) responses than this before the final one: a bad response (an endless 1xx storm). */
    static final int MAX_INTERIM_RESPONSES = 100;
    private int interimResponses;
    /** An interim response's head was dropped; its (empty) end of message is still to come. */
    private boolean interimEndPending;

    // ---- UpstreamStream.Listener ----------------------------------------------------------------

    @Override
    public void onResponse(HttpObject msg) {
        if (finished) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse res && res.status().codeClass() == HttpStatusClass.INFORMATIONAL
                && !res.status().equals(HttpResponseStatus.SWITCHING_PROTOCOLS)) {
            // 1xx interim responses: we answered Expect ourselves; drop them and keep reading. The h1 codec
            // follows each with an empty end of message, which is the interim's, not the response's.
            ReferenceCountUtil.release(msg);
            interimEndPending = !(msg instanceof io.netty.handler.codec.http.LastHttpContent);
            if (++interimResponses > MAX_INTERIM_RESPONSES) {
                onFailed(new UpstreamFailure(UpstreamFailure.Kind.INVALID_RESPONSE,
                        "more than " + MAX_INTERIM_RESPONSES + " interim (1xx) responses", null));
            }
            return;
        }
        if (interimEndPending && msg instanceof io.netty.handler.codec.http.HttpContent) {
            interimEndPending = !(msg instanceof io.netty.handler.codec.http.LastHttpContent);
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
    public void onTunnelBytes(io.netty.buffer.ByteBuf bytes) {
        if (finished) {
            bytes.release();
            return;
        }
        forwarding.onEndpointTunnelBytes(this, bytes);
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
    public void onFailed(UpstreamFailure f) {
        if (finished) {
            return;
        }
        ErrorCode code = switch (f.kind()) {
            case INVALID_RESPONSE -> ErrorCode.UPSTREAM_BAD_RESPONSE;
            case NEVER_SENT -> ErrorCode.UPSTREAM_CONNECT_FAILED;
            case REFUSED, RESET -> ErrorCode.UPSTREAM_RESET;
        };
        forwarding.onAttemptFailed(this, new ProxyError(code, f.message(), f.cause()),
                f.kind() == UpstreamFailure.Kind.REFUSED);
    }

    /**
     * The attempt ended. {@code clean}: its request and response both completed, so the stream may serve
     * another request (its protocol decides); otherwise it is cancelled.
     */
    void finish(boolean clean) {
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
        if (stream != null) {
            if (clean) {
                stream.finish(true);
            } else {
                stream.abort(failure == null ? "exchange ended" : failure.getMessage());
            }
        } else if (acquiring != null) {
            acquiring.cancel(false); // leave the pool's queue
        }
    }
}
