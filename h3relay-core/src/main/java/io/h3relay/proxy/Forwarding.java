package io.h3relay.proxy;

import io.h3relay.cluster.Cluster;
import io.h3relay.cluster.Endpoint;
import io.h3relay.health.OutlierDetector;
import io.h3relay.route.Route;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The forwarding half of an exchange: picks endpoints, runs attempts (retrying per {@link Retries}), and
 * streams the request body upstream with backpressure; {@link ResponseRelay} streams the response back.
 *
 * <pre>
 *   downstream ──read──► request body ──write──► upstream     (auto-read off while upstream unwritable)
 *   downstream ◄──write── response body ◄──read── upstream    (auto-read off while downstream unwritable)
 * </pre>
 *
 * Both sides read by themselves (auto-read) and stop only under backpressure: no per-request read
 * syscalls in the common case. Nothing holds a whole body: while connecting, downstream reads stop and
 * at most one read burst waits in {@code pending}; {@link RequestReplay} keeps what went upstream only up
 * to the route's replay limit.
 */
final class Forwarding {
    /** Without a route timeout, the response head must arrive within this (like nginx's proxy_read_timeout). */
    static final Duration DEFAULT_RESPONSE_HEAD_TIMEOUT = Duration.ofSeconds(60);

    final Exchange ex;
    final Route route;
    final Cluster cluster;
    final ChannelHandlerContext ctx;
    private final ArrayDeque<HttpContent> pending = new ArrayDeque<>(4);
    private final Set<Endpoint> tried = new HashSet<>(4);
    private final Retries retries;
    private final RequestReplay replay;
    private final ResponseRelay response;
    private HttpRequest upstreamHead;
    UpstreamAttempt attempt;
    private ScheduledFuture<?> timeout;
    private ScheduledFuture<?> perTryTimeout;
    private ScheduledFuture<?> backoff;
    private boolean timeoutCoversWholeExchange;
    /** The head (and with it possibly body parts) went to the current attempt's endpoint. */
    private boolean headSent;
    private boolean finished;
    private boolean waitingUpstreamWritable;

    Forwarding(Exchange ex, Route route) {
        this.ex = ex;
        this.route = route;
        this.cluster = route.cluster();
        this.ctx = ex.ctx;
        this.retries = new Retries(route.retry(), cluster);
        this.replay = new RequestReplay(route.retry().replayLimit());
        this.response = new ResponseRelay(this);
    }

    boolean isFinished() {
        return finished;
    }

    boolean isResponseComplete() {
        return response.isComplete();
    }

    /** Attempts made so far (for the access log). */
    int attempts() {
        return retries.attempts();
    }

    void start(HttpRequest req) {
        boolean hasBody;
        if (req instanceof FullHttpMessage full) {
            hasBody = full.content().isReadable() || !full.trailingHeaders().isEmpty();
        } else if (ex.protocol.isMultiplexed()) {
            hasBody = true;
        } else {
            hasBody = HttpUtil.isTransferEncodingChunked(req) || HttpUtil.getContentLength(req, 0L) > 0;
        }
        boolean expectContinue = HttpUtil.is100ContinueExpected(req);
        HttpHeaders headers = req.headers();
        headers.remove(HttpHeaderNames.EXPECT);
        ForwardingHeaders.toUpstream(headers, ex.protocol, ex.listener.isTls(), ex.clientAddress(), ex.requestId,
                route.requestHeaders(), hasBody);
        String target = route.rewrite(originForm(req.uri()));
        upstreamHead = new DefaultHttpRequest(HttpVersion.HTTP_1_1, req.method(), target, headers);
        if (req instanceof FullHttpMessage full) {
            if (hasBody) {
                ex.requestBodyBytes += full.content().readableBytes();
                pending.add(new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
            } else {
                // The h1 encoder needs an end-of-message even for an empty body.
                full.release();
                pending.add(LastHttpContent.EMPTY_LAST_CONTENT);
            }
        }
        if (!ex.requestComplete) {
            ex.readRequest(false); // until the upstream connection is ready
        }
        if (expectContinue && !ex.requestComplete) {
            // We answer Expect ourselves (like nginx): routing already succeeded, so the body is wanted.
            ctx.writeAndFlush(ex.continueResponse());
        }
        Duration t = route.timeout();
        timeoutCoversWholeExchange = t != null;
        if (t != null) {
            timeout = ctx.executor().schedule(this::onTimeout, t.toMillis(), TimeUnit.MILLISECONDS);
        } else if (ex.requestComplete) {
            armResponseHeadTimeout();
        }
        cluster.retryBudget().requestStarted();
        newAttempt(false);
    }

    /** {@code stale}: the same request again after a stale keep-alive connection (not a try of its own). */
    private void newAttempt(boolean stale) {
        backoff = null;
        Endpoint endpoint = cluster.pick(new RequestPickContext(upstreamHead.headers(), ex.clientAddress()), tried);
        if (endpoint == null) {
            fail(new ProxyError(ErrorCode.NO_ENDPOINT_AVAILABLE, "cluster " + cluster.name() + " has no endpoint available"));
            return;
        }
        tried.add(endpoint);
        retries.attemptStarted(stale);
        attempt = new UpstreamAttempt(this, cluster, cluster.pool(endpoint));
        ex.attemptStarted(attempt, upstreamHead.headers());
        armPerTryTimeout();
        attempt.start(ctx.channel().eventLoop());
    }

    // ---- request direction ----------------------------------------------------------------------

    void onUpstreamReady(UpstreamAttempt a) {
        if (a != attempt || finished) {
            a.finish(true);
            return;
        }
        headSent = true;
        a.write(upstreamHead);
        HttpContent c;
        while ((c = pending.poll()) != null) {
            send(a, c);
        }
        a.flush();
        requestMoreBody();
    }

    private void send(UpstreamAttempt a, HttpContent c) {
        replay.sending(c);
        a.write(c);
    }

    /**
     * Without a route timeout, the endpoint gets {@link #DEFAULT_RESPONSE_HEAD_TIMEOUT} from the end of the
     * request: an upload may take as long as it takes, the wait for the answer may not.
     */
    private void armResponseHeadTimeout() {
        if (timeout == null && !timeoutCoversWholeExchange && !ex.responseStarted) {
            timeout = ctx.executor().schedule(this::onTimeout, DEFAULT_RESPONSE_HEAD_TIMEOUT.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    /** per_try_timeout runs from the later of the attempt's start and the request's end, to the response head. */
    private void armPerTryTimeout() {
        long ms = retries.perTryTimeoutMillis();
        if (ms > 0 && ex.requestComplete && attempt != null && perTryTimeout == null) {
            UpstreamAttempt a = attempt;
            perTryTimeout = ctx.executor().schedule(() -> {
                perTryTimeout = null;
                onAttemptFailed(a, new ProxyError(ErrorCode.UPSTREAM_TIMEOUT, "no response from endpoint "
                        + a.endpoint() + " within the per-try timeout of " + ms + "ms"));
            }, ms, TimeUnit.MILLISECONDS);
        }
    }

    void cancelPerTryTimeout() {
        if (perTryTimeout != null) {
            perTryTimeout.cancel(false);
            perTryTimeout = null;
        }
    }

    void onRequestContent(HttpContent content) {
        if (content instanceof LastHttpContent) {
            armResponseHeadTimeout();
            armPerTryTimeout();
        }
        if (attempt != null && attempt.isReady()) {
            send(attempt, content);
            if (content instanceof LastHttpContent) {
                // The end of a request may come as an event (h3: the stream's FIN) with no read-complete
                // after it, so flush it now rather than on the next read burst.
                attempt.flush();
            }
        } else {
            pending.add(content);
        }
    }

    void onDownstreamReadComplete() {
        if (attempt != null && attempt.isReady()) {
            attempt.flush();
            requestMoreBody();
        }
    }

    private void requestMoreBody() {
        if (ex.requestComplete || finished) {
            return;
        }
        if (attempt.isWritable()) {
            ex.readRequest(true);
        } else {
            waitingUpstreamWritable = true;
            ex.readRequest(false);
        }
    }

    void onUpstreamWritable(UpstreamAttempt a) {
        if (a == attempt && waitingUpstreamWritable) {
            waitingUpstreamWritable = false;
            requestMoreBody();
        }
    }

    // ---- response direction: see ResponseRelay ---------------------------------------------------

    void onResponse(UpstreamAttempt a, HttpObject msg) {
        if (a != attempt || finished) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse res && !ex.responseStarted) {
            cancelPerTryTimeout();
            int status = res.status().code();
            outcome(a, status >= 500 ? ErrorCode.UPSTREAM_BAD_RESPONSE : null, "status " + status);
            if (retries.mayRetryStatus(status, replayable())) {
                ReferenceCountUtil.release(msg);
                a.finish(false); // the rest of this response is not wanted
                retry();
                return;
            }
            if (!timeoutCoversWholeExchange && timeout != null) {
                timeout.cancel(false);
                timeout = null;
            }
        }
        response.onResponse(a, msg);
    }

    void onResponseReadComplete(UpstreamAttempt a) {
        if (a == attempt && !finished) {
            response.onReadComplete(a);
        }
    }

    void onDownstreamWritabilityChanged(boolean writable) {
        if (!finished) {
            response.onDownstreamWritabilityChanged(writable);
        }
    }

    /** The last response byte went downstream. */
    void completeExchange(boolean upstreamKeepAlive) {
        boolean reusable = ex.requestComplete && upstreamKeepAlive;
        if (!ex.requestComplete) {
            // The endpoint answered before the whole request arrived: neither side can carry on cleanly.
            ex.closeAfterResponse = true;
        }
        end(reusable);
        ex.finish();
    }

    // ---- failures and retries -------------------------------------------------------------------

    void onAttemptFailed(UpstreamAttempt a, ProxyError error) {
        if (a != attempt || finished) {
            return;
        }
        a.failed(error);
        a.finish(false);
        cancelPerTryTimeout();
        if (!ex.responseStarted && ex.requestComplete && replay.isIntact() && replay.bytes() == 0
                && retries.mayResendStale(error, a.reusedConnection())) {
            // A keep-alive connection closed by the endpoint as we reused it: nothing was processed, go again.
            tried.remove(a.endpoint());
            prepareResend();
            newAttempt(true);
            return;
        }
        outcome(a, error.code(), error.getMessage());
        if (!ex.responseStarted && retries.mayRetry(error.code(), replayable(), error.getMessage())) {
            retry();
            return;
        }
        fail(error);
    }

    /**
     * What the endpoint may have seen can be sent again: nothing went upstream yet, or the whole request
     * arrived and is held by the replay copies.
     */
    private boolean replayable() {
        return !headSent || (bodyFullyReceived() && replay.isIntact());
    }

    /**
     * The request ended, or all the bytes its Content-Length announced arrived: an h2/h3 stream's end may
     * come after the endpoint, which counts the length too, has already answered.
     */
    private boolean bodyFullyReceived() {
        if (ex.requestComplete) {
            return true;
        }
        long declared = HttpUtil.getContentLength(upstreamHead, -1L);
        return declared >= 0 && ex.requestBodyBytes == declared;
    }

    /** Retry granted (budget taken): back off, then a new attempt, preferably on another endpoint. */
    private void retry() {
        prepareResend();
        long delay = retries.backoffMillis();
        if (delay == 0) {
            newAttempt(false);
        } else {
            // end() cancels this if the exchange ends meanwhile.
            backoff = ctx.executor().schedule(() -> newAttempt(false), delay, TimeUnit.MILLISECONDS);
        }
    }

    /** What went upstream goes again, ahead of what was not sent yet. */
    private void prepareResend() {
        attempt = null;
        if (headSent) {
            replay.replayInto(pending);
            headSent = false;
        }
    }

    /** Tells outlier detection how the endpoint did: {@code error} null is a success. */
    private void outcome(UpstreamAttempt a, ErrorCode error, String what) {
        OutlierDetector od = cluster.outliers();
        if (od == null) {
            return;
        }
        if (error == null) {
            od.onSuccess(a.endpoint());
        } else if (error == ErrorCode.UPSTREAM_CONNECT_FAILED || error == ErrorCode.UPSTREAM_TLS_FAILED) {
            od.onConnectFailure(a.endpoint(), what);
        } else if (error == ErrorCode.UPSTREAM_RESET || error == ErrorCode.UPSTREAM_TIMEOUT
                || error == ErrorCode.UPSTREAM_BAD_RESPONSE) {
            od.on5xx(a.endpoint(), what);
        }
    }

    private void fail(ProxyError error) {
        if (attempt != null) {
            attempt.failed(error);
        }
        ex.errorCode = error.code();
        end(false);
        if (!ex.responseStarted) {
            if (!ex.requestComplete) {
                ex.closeAfterResponse = true;
            }
            ex.respondError(error);
        } else {
            ex.abortDownstream();
        }
    }

    private void onTimeout() {
        timeout = null;
        if (finished) {
            return;
        }
        if (attempt != null && !ex.responseStarted) {
            outcome(attempt, ErrorCode.UPSTREAM_TIMEOUT, "no response in time");
        }
        fail(new ProxyError(ErrorCode.UPSTREAM_TIMEOUT, timeoutCoversWholeExchange
                ? "route timeout of " + route.timeout().toMillis() + "ms exceeded"
                : "no response from the endpoint within " + DEFAULT_RESPONSE_HEAD_TIMEOUT.toSeconds() + "s"));
    }

    /** Stops forwarding for good: the downstream side went away or the request broke. */
    void abort() {
        end(false);
    }

    private void end(boolean reusable) {
        if (finished) {
            return;
        }
        finished = true;
        response.end(attempt);
        cancelPerTryTimeout();
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
        if (backoff != null) {
            backoff.cancel(false);
        }
        if (attempt != null) {
            attempt.finish(reusable);
        }
        HttpContent c;
        while ((c = pending.poll()) != null) {
            c.release();
        }
        replay.release();
    }

    /** {@code http://host/path?q} (absolute-form, h1 proxies) becomes {@code /path?q}. */
    private static String originForm(String uri) {
        if (uri.startsWith("/")) {
            return uri;
        }
        int scheme = uri.indexOf("://");
        if (scheme > 0) {
            int slash = uri.indexOf('/', scheme + 3);
            return slash < 0 ? "/" : uri.substring(slash);
        }
        return "*".equals(uri) ? uri : "/" + uri;
    }
}
