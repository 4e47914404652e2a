package io.h3relay.proxy;

import io.h3relay.grpc.Grpc;
import io.h3relay.grpc.GrpcStatus;
import io.h3relay.exchange.ProxyError;
import io.h3relay.exchange.ErrorCode;
import io.h3relay.cluster.Cluster;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.upstream.UpstreamPool;
import io.h3relay.health.OutlierDetector;
import io.h3relay.route.Route;
import io.h3relay.websocket.CloseFrames;
import io.h3relay.websocket.FrameBoundary;
import io.h3relay.websocket.OpenWebSockets;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.util.concurrent.EventExecutor;
import io.h3relay.exchange.DownstreamProtocol;
import io.h3relay.exchange.DownstreamSession;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The forwarding half of an exchange: picks endpoints, runs attempts (retrying per {@link Retries}) under
 * the route's timeouts, and tells outlier detection how each endpoint did. {@link RequestRelay} streams
 * the request body upstream, {@link ResponseRelay} streams the response back, both with backpressure:
 *
 * <pre>
 *   downstream ──read──► request body ──write──► upstream     (auto-read off while upstream unwritable)
 *   downstream ◄──write── response body ◄──read── upstream    (auto-read off while downstream unwritable)
 * </pre>
 *
 * Both sides read by themselves (auto-read) and stop only under backpressure: no per-request read
 * syscalls in the common case. Nothing holds a whole body (see RequestRelay for the replay copies).
 */
final class Forwarding implements OpenWebSockets.Session {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Forwarding.class);
    /** Without a route timeout, the response head must arrive within this (like nginx's proxy_read_timeout). */
    static final Duration DEFAULT_RESPONSE_HEAD_TIMEOUT = Duration.ofSeconds(60);

    final Exchange ex;
    final Route route;
    final Cluster cluster;
    final DownstreamSession session;
    /** Endpoints tried so far: an immutable set of one for the usual single attempt, a HashSet after. */
    private Set<Endpoint> tried = Set.of();
    private final Retries retries;
    private final RequestRelay request;
    private final ResponseRelay response;
    UpstreamAttempt attempt;
    private ScheduledFuture<?> timeout;
    private ScheduledFuture<?> perTryTimeout;
    private ScheduledFuture<?> backoff;
    private boolean timeoutCoversWholeExchange;
    /** The default response-head timeout, when it is kept by the loop's list rather than {@link #timeout}. */
    private ResponseHeadTimeouts headTimeouts;
    // ResponseHeadTimeouts' links (loop-confined, no allocation per exchange).
    Forwarding headOlder;
    Forwarding headNewer;
    long headDeadline;
    boolean headLinked;
    /** A gRPC request ({@code application/grpc*}). */
    boolean grpc;
    /** The client's gRPC deadline (System.nanoTime) when it is the exchange's timeout, else 0. */
    private long deadlineNanos;
    /** A reset this close to the gRPC deadline is the endpoint giving up at the deadline it was forwarded. */
    private static final long DEADLINE_SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** After a 101 or a 2xx to CONNECT: both directions carry opaque bytes until each side has ended. */
    private boolean tunnel;
    private boolean clientEnded;
    private boolean endpointEnded;
    /**
     * A WebSocket's frames each way (client to endpoint, endpoint to client), followed so that a Close of
     * ours goes in between two frames; null unless the tunnel is a WebSocket.
     */
    private FrameBoundary clientFrames;
    private FrameBoundary endpointFrames;
    /**
     * We ended the tunnel (a limit, a drain): Close frames and ends went both ways, and the session waits up
     * to {@link #CLOSE_GRACE_MILLIS} for each side to end its own (its Close answer is dropped).
     */
    private boolean closing;
    private boolean awaitingClientEnd;
    private boolean awaitingEndpointEnd;
    private ScheduledFuture<?> closeGrace;
    /** How long a close of ours waits for both sides to end theirs before it cuts them. */
    static final long CLOSE_GRACE_MILLIS = 1000;
    /**
     * The tunnel's idle and total-duration limits (limits.websocket_idle_timeout, max_websocket_duration), or
     * a streamed response's idle limit (limits.stream_idle_timeout); null for an ordinary exchange.
     */
    private IdleClock streamClock;
    /** The one count of attempts: Retries derives its tries from it. */
    private int attempts;
    private boolean finished;
    /** Counted in the cluster's exchanges in flight (which keep a retired cluster's pools open). */
    private boolean counted;

    Forwarding(Exchange ex, Route route) {
        this.ex = ex;
        this.route = route;
        this.cluster = route.cluster();
        this.session = ex.session;
        this.retries = new Retries(route.retry(), cluster, this);
        this.request = new RequestRelay(this, route.retry().replayLimit());
        this.response = new ResponseRelay(this);
    }

    boolean isFinished() {
        return finished;
    }

    boolean inTunnel() {
        return tunnel;
    }

    String upgradeKey() {
        return request.upgradeKey();
    }

    /** The endpoint answered an upgrade with a 101 that does not complete it: a bad response (502). */
    void onBadUpgrade(UpstreamAttempt a, String why) {
        onAttemptFailed(a, new ProxyError(ErrorCode.UPSTREAM_BAD_RESPONSE, why), false);
    }

    boolean isResponseComplete() {
        return response.isComplete();
    }

    /** Attempts made so far, stale-connection re-sends included (for observers and the access log). */
    int attempts() {
        return attempts;
    }

    /**
     * An HTTP/1 request without Content-Length and Transfer-Encoding has no body (RFC 9112 section 6.3): only
     * the decoder's empty end follows its head, in the same read. Pausing the client's reads for it cost two
     * epoll_ctl calls per request (read interest off, then on again) for nothing; pipelined requests are
     * bounded by Http1Session itself. Upgrades and CONNECT keep the pause (tunnel bytes may follow).
     */
    private boolean bodilessHttp1(HttpRequest req) {
        DownstreamProtocol p = session.protocol();
        return (p == DownstreamProtocol.HTTP_1_1 || p == DownstreamProtocol.HTTP_1_0) && !ex.upgrade.isUpgrade()
                && !HttpMethod.CONNECT.equals(req.method())
                && !req.headers().contains(HttpHeaderNames.CONTENT_LENGTH)
                && !req.headers().contains(HttpHeaderNames.TRANSFER_ENCODING);
    }

    void start(HttpRequest req) {
        boolean bodiless = bodilessHttp1(req); // before prepare() rewrites the head for the endpoint
        boolean expectContinue = request.prepare(req);
        if (!ex.requestComplete && !bodiless) {
            ex.readRequest(false); // until the upstream connection is ready
        }
        if (expectContinue && !ex.requestComplete) {
            // We answer Expect ourselves (like nginx): routing already succeeded, so the body is wanted.
            session.writeInterim(ex.continueResponse());
        }
        Duration t = route.timeout();
        grpc = Grpc.isGrpc(req.headers());
        long grpcTimeout = grpc ? Grpc.timeoutNanos(req.headers()) : -1;
        if (grpcTimeout >= 0 && (t == null || grpcTimeout < t.toNanos())) {
            // the client's deadline is the exchange's when it is the nearer one; each attempt forwards what is left
            deadlineNanos = System.nanoTime() + grpcTimeout;
            t = Duration.ofNanos(grpcTimeout);
        }
        timeoutCoversWholeExchange = t != null;
        if (t != null) {
            timeout = session.executor().schedule(this::onTimeout, t.toNanos(), TimeUnit.NANOSECONDS);
        } else if (ex.requestComplete || ex.upgrade.isUpgrade()) {
            armResponseHeadTimeout(); // an extended CONNECT's stream stays open: its head is the whole request
        }
        cluster.exchangeStarted();
        counted = true;
        newAttempt(false);
    }

    /** {@code stale}: the same request again after a stale keep-alive connection (not a try of its own). */
    private void newAttempt(boolean stale) {
        backoff = null;
        Endpoint endpoint = cluster.pick(new RequestPickContext(request.head().headers(), ex.clientAddress()), tried);
        if (endpoint == null) {
            fail(new ProxyError(ErrorCode.NO_ENDPOINT_AVAILABLE, "cluster " + cluster.name() + " has no endpoint available"));
            return;
        }
        if (tried.isEmpty()) {
            tried = Set.of(endpoint);
        } else {
            if (!(tried instanceof HashSet)) {
                tried = new HashSet<>(tried);
            }
            tried.add(endpoint);
        }
        attempts++;
        if (stale) {
            retries.staleResend();
        }
        if (deadlineNanos != 0) {
            request.head().headers().set(Grpc.GRPC_TIMEOUT, Grpc.formatTimeout(deadlineNanos - System.nanoTime()));
        }
        UpstreamPool pool = cluster.pool(endpoint);
        attempt = new UpstreamAttempt(this, cluster, ex.upgrade.isUpgrade() ? pool.overTcp() : pool);
        attempt.number(attempts);
        ex.attemptStarted(attempt);
        if (!ex.filters().isEmpty()) {
            ex.filters().onUpstreamRequest(ex, request.head());
        }
        armPerTryTimeout();
        attempt.start(session.channel().eventLoop());
    }

    // ---- request direction ----------------------------------------------------------------------

    void onUpstreamReady(UpstreamAttempt a) {
        if (a != attempt || finished) {
            a.finish(true);
            return;
        }
        request.onUpstreamReady(a);
    }

    /**
     * Without a route timeout, the endpoint gets {@link #DEFAULT_RESPONSE_HEAD_TIMEOUT} from the end of the
     * request: an upload may take as long as it takes, the wait for the answer may not.
     */
    private void armResponseHeadTimeout() {
        if (timeout == null && headTimeouts == null && !timeoutCoversWholeExchange && !ex.responseStarted) {
            ResponseHeadTimeouts list = ResponseHeadTimeouts.of(session.executor());
            if (list != null) {
                headTimeouts = list;
                list.add(this);
            } else {
                timeout = session.executor().schedule(this::onTimeout, DEFAULT_RESPONSE_HEAD_TIMEOUT.toMillis(),
                        TimeUnit.MILLISECONDS);
            }
        }
    }

    /** {@link ResponseHeadTimeouts} found this exchange's wait over (it is unlinked already). */
    void responseHeadTimedOut() {
        headTimeouts = null;
        onTimeout();
    }

    /** Stops the exchange's timeout, whichever kind it is. */
    private void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
        if (headTimeouts != null) {
            headTimeouts.remove(this);
            headTimeouts = null;
        }
    }

    /** per_try_timeout runs from the later of the attempt's start and the request's end, to the response head. */
    private void armPerTryTimeout() {
        long ms = retries.perTryTimeoutMillis();
        if (ms > 0 && ex.requestComplete && attempt != null && perTryTimeout == null) {
            UpstreamAttempt a = attempt;
            perTryTimeout = session.executor().schedule(() -> {
                perTryTimeout = null;
                onAttemptFailed(a, new ProxyError(ErrorCode.UPSTREAM_TIMEOUT, "no response from endpoint "
                        + a.endpoint() + " within the per-try timeout of " + ms + "ms"), false);
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
        if (tunnel) {
            if (finished) {
                content.release();
                return;
            }
            boolean last = content instanceof LastHttpContent;
            if (closing) {
                content.release(); // the client's answer to our Close: the endpoint got its own
                if (last) {
                    awaitingClientEnd = false;
                    endClosingIfDone();
                }
                return;
            }
            streamClock.activity();
            if (clientFrames != null) {
                clientFrames.feed(content.content());
            }
            request.onRequestContent(content, attempt);
            if (last) {
                clientEnded = true;
                ex.requestComplete = true; // the client ended its side cleanly (h2/h3: END_STREAM, not a reset)
                endTunnelIfBothEnded();
            }
            return;
        }
        if (content instanceof LastHttpContent) {
            armResponseHeadTimeout();
            armPerTryTimeout();
        }
        request.onRequestContent(content, attempt);
    }

    /**
     * Tunnel bytes from the client, not its end (see {@link Exchange#onTunnelBytes}): what
     * {@link #onRequestContent} does with a tunnel's body part, without the part.
     */
    void onClientTunnelBytes(io.netty.buffer.ByteBuf bytes) {
        if (finished || closing) {
            bytes.release(); // closing: the client's answer to our Close (the endpoint got its own)
            return;
        }
        streamClock.activity();
        if (clientFrames != null) {
            clientFrames.feed(bytes);
        }
        request.onTunnelBytes(bytes, attempt);
    }

    void onDownstreamReadComplete() {
        request.onDownstreamReadComplete(attempt);
    }

    void onUpstreamWritable(UpstreamAttempt a) {
        if (a == attempt) {
            request.onUpstreamWritable(a);
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
            if (cluster.outliers() != null) { // the reason text only where outlier detection reads it
                outcome(a, status >= 500 ? ErrorCode.UPSTREAM_BAD_RESPONSE : null, "status " + status);
            }
            if (retries.mayRetryStatus(status, request.replayable()) || (grpc && msg instanceof LastHttpContent
                    && retries.mayRetryGrpc(GrpcStatus.parse(res.headers().get(Grpc.GRPC_STATUS)), request.replayable()))) {
                ReferenceCountUtil.release(msg);
                a.finish(false); // the rest of this response is not wanted
                retry();
                return;
            }
            if (!timeoutCoversWholeExchange) {
                cancelTimeout();
            }
        }
        response.onResponse(a, msg);
    }

    /** Tunnel bytes from the endpoint, not its end (see {@link UpstreamAttempt#onTunnelBytes}). */
    void onEndpointTunnelBytes(UpstreamAttempt a, io.netty.buffer.ByteBuf bytes) {
        if (a != attempt || finished) {
            bytes.release();
            return;
        }
        response.onTunnelBytes(bytes);
    }

    void onResponseReadComplete(UpstreamAttempt a) {
        if (a == attempt && !finished) {
            response.onReadComplete(a);
        }
    }

    void onDownstreamWritable() {
        if (!finished) {
            response.onDownstreamWritable();
        }
    }

    /** The last response byte went downstream. */
    void completeExchange() {
        boolean clean = ex.requestComplete;
        if (!clean) {
            // The endpoint answered before the whole request arrived: neither side can carry on cleanly.
            session.closeAfterResponse();
        }
        end(clean);
        ex.finish();
    }

    // ---- tunnel ------------------------------------------------------------------------------------

    /**
     * The response head says the stream became a tunnel ({@code 101 Switching Protocols}, or a 2xx to
     * CONNECT), already written downstream: both sessions drop their framing and the relays carry bytes
     * without an end of message. The exchange timeouts stop (a tunnel lives as long as its sides want).
     */
    void enterTunnel(UpstreamAttempt a) {
        tunnel = true;
        cancelPerTryTimeout();
        cancelTimeout();
        a.stream().enterTunnel();
        session.enterTunnel();
        var limits = ex.listener.limits();
        if (streamClock != null) {
            streamClock.cancel();
        }
        streamClock = new IdleClock(session.executor(), limits.websocketIdleTimeout().toNanos(),
                "websocket_idle_timeout", limits.maxWebsocketDuration().toNanos(), "max_websocket_duration",
                this::closeTunnel);
        ex.tunnelOpened();
        if (ex.isWebSocket()) {
            clientFrames = new FrameBoundary();
            endpointFrames = new FrameBoundary();
            OpenWebSockets.opened(this);
        }
        request.enterTunnel(a);
    }

    // ---- OpenWebSockets.Session (a drain ends the session with closeFor) ---------------------------------

    @Override
    public EventExecutor executor() {
        return session.executor();
    }

    @Override
    public String listenerName() {
        return ex.listener.name();
    }

    @Override
    public boolean overHttp3() {
        return ex.protocol == io.h3relay.exchange.DownstreamProtocol.H3;
    }

    @Override
    public void closeFor(String why) {
        closeTunnel(why);
    }

    /**
     * Bytes from the endpoint go to the client in a tunnel: false while a close of ours runs (they are its
     * Close answer, dropped); a WebSocket's frames are followed.
     */
    boolean relayEndpointBytes(io.netty.buffer.ByteBuf bytes) {
        if (closing) {
            return false;
        }
        if (endpointFrames != null) {
            endpointFrames.feed(bytes);
        }
        return true;
    }

    /** The endpoint ended its side while a close of ours runs. */
    void endpointEndedWhileClosing() {
        awaitingEndpointEnd = false;
        endClosingIfDone();
    }

    /** Bytes from the endpoint went downstream (a tunnel's, or a streamed response's). */
    void endpointStreamActivity() {
        if (streamClock != null) {
            streamClock.activity();
        }
    }

    /**
     * The response is a stream the endpoint keeps sending (SSE: {@code text/event-stream}, or marked
     * {@code X-Accel-Buffering: no}): the route timeout stops here (a stream that keeps sending is not late),
     * and {@code limits.stream_idle_timeout} watches the gaps between its parts instead.
     */
    void responseIsStream() {
        cancelTimeout();
        timeoutCoversWholeExchange = false;
        streamClock = new IdleClock(session.executor(), ex.listener.limits().streamIdleTimeout().toNanos(),
                "stream_idle_timeout", 0, null, why -> {
                    if (!finished) {
                        fail(new ProxyError(ErrorCode.UPSTREAM_TIMEOUT, "the endpoint's stream went quiet ("
                                + why + ")"));
                    }
                });
    }

    /**
     * A limit (or the end of a drain) ends the tunnel ({@code why}). A WebSocket first gets a Close frame
     * each way ({@link CloseFrames}: 1001, the reason naming the limit), where the bytes relayed so far end
     * on a frame boundary; then both sides get an orderly end of stream (h1: FIN, h2: END_STREAM, h3: FIN;
     * towards the endpoint: FIN / END_STREAM), not a reset. The session then waits up to
     * {@link #CLOSE_GRACE_MILLIS} for each side to end its own (after its Close answer, which is dropped),
     * and the connections close after it.
     */
    void closeTunnel(String why) {
        if (finished || closing) {
            return;
        }
        LOG.debug("closing the tunnel of exchange {}: {}", ex.requestId, why);
        ex.tunnelClosedBy(why);
        closing = true;
        if (streamClock != null) {
            streamClock.cancel();
        }
        awaitingClientEnd = !clientEnded;
        awaitingEndpointEnd = !endpointEnded;
        String reason = CloseFrames.reasonFor(why);
        if (!endpointEnded) {
            endpointEnded = true;
            if (endpointFrames != null && endpointFrames.atBoundary()) {
                session.writeBody(new DefaultHttpContent(
                        CloseFrames.close(session.alloc(), CloseFrames.GOING_AWAY, reason, false)));
            }
            session.writeLast(LastHttpContent.EMPTY_LAST_CONTENT);
            session.flush();
        }
        if (!clientEnded && attempt != null && attempt.isReady()) {
            clientEnded = true;
            if (clientFrames != null && clientFrames.atBoundary()) {
                attempt.write(new DefaultHttpContent(
                        CloseFrames.close(session.alloc(), CloseFrames.GOING_AWAY, reason, true)));
            }
            attempt.write(LastHttpContent.EMPTY_LAST_CONTENT);
            attempt.flush();
        } else {
            awaitingEndpointEnd = false;
        }
        // Both sides may send their Close answer and end: reads go on (backpressure does not apply to drops).
        ex.readRequest(true);
        if (attempt != null) {
            attempt.readResponse(true);
        }
        closeGrace = session.executor().schedule(() -> {
            closeGrace = null;
            if (!finished) {
                LOG.debug("exchange {}: the close handshake did not complete in {}ms", ex.requestId,
                        CLOSE_GRACE_MILLIS);
                end(false);
                ex.finish();
            }
        }, CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        endClosingIfDone();
    }

    private void endClosingIfDone() {
        if (closing && !awaitingClientEnd && !awaitingEndpointEnd && !finished) {
            end(false);
            ex.finish();
        }
    }

    /** The endpoint ended its side of the tunnel (the last part already went downstream). */
    void endpointEndedTunnel() {
        endpointEnded = true;
        endTunnelIfBothEnded();
    }

    private void endTunnelIfBothEnded() {
        if (clientEnded && endpointEnded && !finished) {
            end(false); // a tunnel's connection carries nothing after it
            ex.finish();
        }
    }

    // ---- failures and retries -------------------------------------------------------------------

    /**
     * {@code refused}: the stream says the endpoint did not process the request (h1: a reused keep-alive
     * connection closed before any response byte).
     */
    void onAttemptFailed(UpstreamAttempt a, ProxyError error, boolean refused) {
        if (a != attempt || finished) {
            return;
        }
        if (closing) {
            // The endpoint cut its connection while a close of ours ran: the client already got its end.
            a.failed(error);
            end(false);
            ex.finish();
            return;
        }
        if (deadlineNanos != 0 && error.code() == ErrorCode.UPSTREAM_RESET
                && System.nanoTime() - (deadlineNanos - DEADLINE_SLACK_NANOS) >= 0) {
            // The endpoint got our reduced grpc-timeout and gave up at its deadline (grpc-java resets the
            // stream): the client's deadline is what passed, not a broken endpoint.
            error = new ProxyError(ErrorCode.UPSTREAM_TIMEOUT, "grpc-timeout exceeded (the endpoint reset the "
                    + "stream at its deadline)");
        }
        a.failed(error);
        a.finish(false);
        cancelPerTryTimeout();
        if (refused && !ex.responseStarted && request.bodilessAndComplete() && retries.mayResendRefused()) {
            // E.g. a keep-alive connection closed by the endpoint as we reused it: nothing was processed, go again.
            if (!(tried instanceof HashSet)) {
                tried = new HashSet<>(tried);
            }
            tried.remove(a.endpoint());
            prepareResend();
            newAttempt(true);
            return;
        }
        outcome(a, error.code(), error.getMessage());
        if (refused && !ex.responseStarted && retries.mayRetryRefused(request.replayableSoFar(), error.getMessage())) {
            // h2 REFUSED_STREAM or GOAWAY below the stream: not processed, so a body may go again too
            // (what was sent is held; what is still arriving follows), under the route's refused-stream rule.
            retry();
            return;
        }
        if (!ex.responseStarted && retries.mayRetry(error.code(), request.replayable(), error.getMessage())) {
            retry();
            return;
        }
        fail(error);
    }

    /** Retry granted (budget taken): back off, then a new attempt, preferably on another endpoint. */
    private void retry() {
        prepareResend();
        long delay = retries.backoffMillis();
        if (delay == 0) {
            newAttempt(false);
        } else {
            // end() cancels this if the exchange ends meanwhile.
            backoff = session.executor().schedule(() -> newAttempt(false), delay, TimeUnit.MILLISECONDS);
        }
    }

    private void prepareResend() {
        attempt = null;
        request.prepareResend();
        if (!ex.requestComplete) {
            // A body still arriving waits in the client's connection until the next attempt is ready (its
            // onUpstreamReady reads on), as before the first one, rather than piling up here meanwhile.
            ex.readRequest(false);
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
        ex.failedWith(error.code());
        end(false);
        if (!ex.responseStarted) {
            if (!ex.requestComplete) {
                session.closeAfterResponse();
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
        fail(new ProxyError(ErrorCode.UPSTREAM_TIMEOUT, deadlineNanos != 0 ? "grpc-timeout exceeded"
                : timeoutCoversWholeExchange ? "route timeout of " + route.timeout().toMillis() + "ms exceeded"
                : "no response from the endpoint within " + DEFAULT_RESPONSE_HEAD_TIMEOUT.toSeconds() + "s"));
    }

    /** Stops forwarding for good: the downstream side went away or the request broke. */
    void abort() {
        end(false);
    }

    /**
     * The client took none of the response for limits.send_timeout: cut it off (h1 close, h2/h3 reset) and
     * close the upstream connection, whose response is unfinished. Not the endpoint's fault: no outcome is
     * recorded against it.
     */
    void downstreamStalled(long limitNanos) {
        if (finished) {
            return;
        }
        LOG.debug("exchange {}: the client took nothing for send_timeout ({} ms)", ex.requestId,
                limitNanos / 1_000_000);
        ex.failedWith(ErrorCode.REQUEST_TIMEOUT);
        end(false);
        ex.abortDownstream();
    }

    private void end(boolean reusable) {
        if (finished) {
            return;
        }
        finished = true;
        if (streamClock != null) {
            streamClock.cancel();
        }
        if (closeGrace != null) {
            closeGrace.cancel(false);
        }
        if (clientFrames != null) {
            OpenWebSockets.closed(this);
        }
        response.end(attempt);
        cancelPerTryTimeout();
        cancelTimeout();
        if (backoff != null) {
            backoff.cancel(false);
        }
        if (attempt != null) {
            attempt.finish(reusable);
        }
        request.release();
        if (counted) {
            cluster.exchangeEnded(); // last: may close a retired cluster's pools, after the attempt's release
        }
    }
}
