package io.h3relay.proxy;

import io.h3relay.config.ClusterConfig;

import io.h3relay.exchange.LocalResponses;
import io.h3relay.exchange.ProxyError;
import io.h3relay.exchange.ErrorCode;
import io.h3relay.exchange.ExchangeView;
import io.h3relay.exchange.ExchangeObserver;
import io.h3relay.config.RouteConfig;
import io.h3relay.exchange.DownstreamProtocol;
import io.h3relay.runtime.ListenerRuntime;
import io.h3relay.exchange.DownstreamExchange;
import io.h3relay.exchange.DownstreamSession;
import io.h3relay.exchange.ExchangeAttribute;
import io.h3relay.exchange.ErrorRenderer;
import io.h3relay.filter.FilterChain;
import io.h3relay.filter.FilterContext;
import io.h3relay.filter.FilterResult;
import io.h3relay.grpc.GrpcWeb;
import io.h3relay.grpcweb.GrpcWebFilter;
import java.util.ArrayDeque;
import io.h3relay.route.Route;
import io.h3relay.route.RouteMatch;
import io.h3relay.websocket.WebSocketUpgrade;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.h3relay.endpoint.Endpoint;
import io.netty.channel.Channel;

import java.net.InetAddress;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One request and its response as the proxy handles it. Lives on the downstream channel's event loop,
 * from the request head to the last byte of the response; all its methods run on that loop.
 *
 * <pre>
 *   head ─► checks ─► route ─┬─ respond / redirect / error ─► local response
 *                            └─ forward ─► {@link Forwarding} (attempts, body streaming both ways)
 * </pre>
 * Its {@link ExchangeObserver} (metrics, tracing, access log) sees each phase as it happens.
 */
final class Exchange implements FilterContext, DownstreamExchange {
    final DownstreamSession session;
    final ListenerRuntime listener;
    final DownstreamProtocol protocol;
    final long startNanos = System.nanoTime();
    final long startEpochMillis = System.currentTimeMillis();
    final ExchangeObserver observer;

    HttpRequest request;
    String requestId;
    String method;
    Route route;
    boolean requestComplete;
    boolean responseStarted;
    boolean done;
    private long requestBodyBytes;
    private long responseBodyBytes;
    int status;
    private ErrorCode errorCode;
    private Endpoint lastEndpoint;
    private UpstreamAttempt lastAttempt;
    String traceId;
    /** The Host header (h2/h3: :authority), looked up once for the checks, routing and the access log. */
    private String authority;
    /** The request's Content-Length, -1 without one. */
    private long declaredLength = -1;
    /** The target in origin-form (absolute-form h1 proxy requests turned into path and query). */
    private String originForm;
    /** The listener's filters; once routed, the route's too. */
    private FilterChain filters;
    /** A head phase a filter paused, and the body parts that arrived meanwhile. */
    private FilterResult.Paused paused;
    private ArrayDeque<HttpContent> heldBody;

    private Forwarding forwarding;
    private InetAddress client;
    /** Whether (and how) the request asks for a WebSocket: see {@link WebSocketUpgrade}. */
    WebSocketUpgrade upgrade = WebSocketUpgrade.NONE;
    /** The upgrade was accepted: the exchange is a WebSocket tunnel. */
    private boolean webSocket;
    private String tunnelClosedBy;
    /** The connection's peer (the PROXY protocol's source when the listener reads one); XFF is appended with it. */
    private InetAddress peer;
    /** A gRPC-Web request (its mode), translated by {@link GrpcWebFilter} in front of the filters; else null. */
    GrpcWeb.Mode grpcWeb;

    Exchange(DownstreamSession session, ListenerRuntime listener) {
        this.session = session;
        this.listener = listener;
        this.protocol = session.protocol();
        this.observer = listener.observers().newObserver();
        this.filters = listener.filters();
    }

    /** The request head arrived (a FullHttpRequest also carries its whole body). */
    @Override
    public void start(HttpRequest req) {
        this.request = req;
        clientAddress();
        this.method = req.method().name();
        this.requestId = requestIdOf(req.headers());
        this.requestComplete = req instanceof LastHttpContent;
        grpcWeb = GrpcWeb.modeOf(req.headers());
        if (grpcWeb != null) {
            filters = GrpcWebFilter.around(filters);
        }
        // Parsed once here, for the checks, routing, the upstream request and the logs.
        int hosts = hostCount(req.headers());
        this.authority = hosts == 0 ? null : req.headers().get(HttpHeaderNames.HOST);
        upgrade = WebSocketUpgrade.of(req);
        if (upgrade == WebSocketUpgrade.EXTENDED_CONNECT) {
            // RFC 8441 / 9220: the WebSocket's target is :path (Netty's adapter put :authority in the URI).
            String path = WebSocketUpgrade.connectPath(req);
            req.setUri(path == null ? "" : path);
        }
        observer.requestReceived(this);

        ProxyError error = RequestChecks.decoderFailure(req.decoderResult());
        if (error == null && session.isDraining()) {
            error = new ProxyError(ErrorCode.DRAINING, "the proxy is shutting down; retry shortly");
        }
        if (error == null) {
            error = RequestChecks.check(req, protocol, listener.limits(), hosts, upgrade);
        }
        if (error == null) {
            try {
                declaredLength = HttpUtil.getContentLength(req, -1L);
            } catch (NumberFormatException e) {
                declaredLength = -2;
            }
            error = RequestChecks.checkLength(declaredLength, listener.limits());
            if (error != null) {
                routeOfRefused(req);
            }
        }
        if (error != null) {
            release(req);
            respondError(error);
            return;
        }
        originForm = RequestTargets.originForm(req.uri());
        if (!filters.isEmpty() && !applyFilters(FilterChain.HeadPhase.REQUEST, 0)) {
            return;
        }
        routeRequest();
    }

    /** An extended CONNECT is routed as the GET it becomes upstream, so a WebSocket route matches every protocol. */
    private String routingMethod() {
        return upgrade == WebSocketUpgrade.EXTENDED_CONNECT ? "GET" : method;
    }

    private void routeRequest() {
        String path = RequestTargets.path(originForm);
        RouteMatch match = listener.routes().match(routingMethod(), authority, path, request.headers(),
                upgrade.isUpgrade());
        switch (match) {
            case RouteMatch.NotFound nf -> {
                release(request);
                respondError(new ProxyError(ErrorCode.ROUTE_NOT_FOUND, "no route for " + method + " " + path));
            }
            case RouteMatch.UpgradeNotAllowed una -> {
                route = una.route();
                observer.routeChosen(this);
                release(request);
                respondError(new ProxyError(ErrorCode.WEBSOCKET_NOT_ALLOWED, "route " + route.name()
                        + " does not allow WebSocket upgrades"));
            }
            case RouteMatch.MethodNotAllowed mna -> {
                release(request);
                FullHttpResponse res = errorResponse(new ProxyError(ErrorCode.METHOD_NOT_ALLOWED,
                        "method " + method + " not allowed; allowed: " + String.join(", ", mna.allow())));
                res.headers().set(HttpHeaderNames.ALLOW, String.join(", ", mna.allow()));
                respondLocally(res, false);
            }
            case RouteMatch.Found found -> {
                route = found.route();
                observer.routeChosen(this);
                filters = listener.filtersFor(route);
                if (grpcWeb != null) {
                    filters = GrpcWebFilter.around(filters);
                }
                if (!filters.isEmpty() && !applyFilters(FilterChain.HeadPhase.ROUTED, 0)) {
                    return;
                }
                act();
            }
        }
    }

    /** The route's action, once every filter let the request through. */
    private void act() {
        HttpRequest req = request;
        switch (route.action()) {
            case RouteConfig.Respond r -> {
                release(req);
                respondLocally(DirectResponses.respond(session.alloc(), r), false);
            }
            case RouteConfig.Builtin b -> {
                release(req);
                respondLocally(DirectResponses.builtin(session.alloc(), b, session.isReady()), false);
            }
            case RouteConfig.Redirect r -> {
                release(req);
                respondLocally(DirectResponses.redirect(session.alloc(), r, req, listener.tls()), false);
            }
            case RouteConfig.Forward f -> {
                if (upgrade.isUpgrade() && route.cluster().config().protocol() == ClusterConfig.UpstreamProtocol.HTTP3
                        && !route.cluster().config().protocolPolicy().orLower()) {
                    // WebSockets reach endpoints as an HTTP/1.1 Upgrade or an HTTP/2 extended CONNECT (RFC 8441),
                    // over the TCP side of http3 or_lower and auto clusters; RFC 9220 towards endpoints is not built
                    release(req);
                    respondError(new ProxyError(ErrorCode.UPGRADE_NOT_SUPPORTED, "route " + route.name()
                            + ": WebSocket upgrades need an http1, http2, h2c or auto cluster, or http3 with protocol_policy or_lower; cluster " + route.cluster().name()
                            + " speaks " + route.cluster().config().protocol().name().toLowerCase(java.util.Locale.ROOT)));
                    break;
                }
                forwarding = new Forwarding(this, route);
                forwarding.start(req);
            }
        }
        replayHeldBody();
    }

    // ---- filters ---------------------------------------------------------------------------------

    /** Runs a head phase of the chain from filter {@code from}; true when the exchange goes on now. */
    private boolean applyFilters(FilterChain.HeadPhase phase, int from) {
        return handleFilterResult(filters.run(phase, from, this, request));
    }

    /** Acts on what a head phase came to; true when the exchange goes on now. */
    private boolean handleFilterResult(FilterResult result) {
        switch (result) {
            case FilterResult.Continue c -> {
                return true;
            }
            case FilterResult.Paused p -> {
                paused = p;
                readRequest(false); // body parts that already arrived wait in heldBody
                return false;
            }
            case FilterResult.Pause p -> throw new IllegalStateException("FilterChain.run reports pauses as Paused");
            case FilterResult.Reject r -> {
                release(request);
                respondError(r.error());
                replayHeldBody(); // parts held by an earlier pause: discarded like the rest of the body
                return false;
            }
            case FilterResult.Respond r -> {
                release(request);
                respondLocally(r.response(), false);
                replayHeldBody();
                return false;
            }
        }
    }

    @Override
    public FilterContext spawn(FullHttpRequest req) {
        Exchange background = new Exchange(new BackgroundSession(protocol, session.channel(), clientAddress()), listener);
        session.executor().execute(() -> background.start(req));
        return background;
    }

    @Override
    public void resume() {
        resume(FilterResult.CONTINUE);
    }

    @Override
    public void resume(FilterResult decision) {
        if (decision instanceof FilterResult.Pause || decision instanceof FilterResult.Paused) {
            throw new IllegalArgumentException("resume with continue, reject or respond, not " + decision);
        }
        session.executor().execute(() -> {
            FilterResult.Paused p = paused;
            if (p == null || done) {
                if (decision instanceof FilterResult.Respond r) {
                    r.response().release();
                }
                return;
            }
            paused = null;
            boolean goOn;
            if (decision instanceof FilterResult.Reject r) {
                release(request);
                respondError(r.error());
                replayHeldBody();
                goOn = false;
            } else if (decision instanceof FilterResult.Respond r) {
                release(request);
                respondLocally(r.response(), false);
                replayHeldBody();
                goOn = false;
            } else {
                goOn = applyFilters(p.phase(), p.next());
                if (!goOn && paused == null) {
                    replayHeldBody(); // a later filter answered: the held parts still complete the request
                }
            }
            if (!goOn) {
                return;
            }
            if (p.phase() == FilterChain.HeadPhase.REQUEST) {
                routeRequest();
            } else {
                act();
            }
        });
    }

    /** Body parts that arrived while a filter held the head go on now, in order. */
    private void replayHeldBody() {
        if (heldBody == null) {
            return;
        }
        HttpContent c;
        while ((c = heldBody.poll()) != null) {
            onRequestContent(c);
        }
        heldBody = null;
    }

    /**
     * A check refused the request before routing (e.g. 413 for a declared Content-Length): the route that
     * matches is still chosen, for the access log, metrics and trace, as when a body grows over the limit
     * after routing, so the same request logs the same route on every protocol.
     */
    private void routeOfRefused(HttpRequest req) {
        String path = RequestTargets.path(RequestTargets.originForm(req.uri()));
        if (listener.routes().match(routingMethod(), authority, path, req.headers(), upgrade.isUpgrade())
                instanceof RouteMatch.Found found) {
            route = found.route();
            observer.routeChosen(this);
        }
    }

    /** A request body chunk (the last one may carry trailers). */
    @Override
    public void onRequestContent(HttpContent content) {
        if (done && forwarding == null) {
            content.release();
            return;
        }
        if (paused != null) {
            if (heldBody == null) {
                heldBody = new ArrayDeque<>(2);
            }
            heldBody.add(content);
            return;
        }
        if (!content.decoderResult().isSuccess()) {
            content.release();
            onRequestBroken(RequestChecks.bodyDecoderFailure(content.decoderResult()));
            return;
        }
        if (forwarding != null && forwarding.inTunnel()) {
            // Opaque bytes after a 101 / 2xx to CONNECT: no body limit, no end of request to track.
            requestBodyBytes += content.content().readableBytes();
            forwarding.onRequestContent(content);
            return;
        }
        requestBodyBytes += content.content().readableBytes();
        boolean last = content instanceof LastHttpContent;
        long max = listener.limits().maxRequestBodySize();
        if (max > 0 && requestBodyBytes > max) {
            content.release();
            onRequestBroken(RequestChecks.tooLarge(listener.limits()));
            return;
        }
        if (last) {
            requestComplete = true;
        }
        if (forwarding != null && !forwarding.isFinished()) {
            forwarding.onRequestContent(content);
        } else {
            content.release();
            if (last && responseComplete()) {
                finish();
            }
        }
    }

    /**
     * Tunnel bytes from the client (h1, after the 101): straight to the forwarding when nothing holds them
     * (no paused filter phase), without a body part around each read; otherwise as one.
     */
    @Override
    public void onTunnelBytes(ByteBuf bytes) {
        if (paused == null && forwarding != null && forwarding.inTunnel()) {
            requestBodyBytes += bytes.readableBytes();
            forwarding.onClientTunnelBytes(bytes);
            return;
        }
        onRequestContent(new io.netty.handler.codec.http.DefaultHttpContent(bytes));
    }

    /** The request cannot continue (bad chunk, body too large): answer if we still can, else cut. */
    private void onRequestBroken(ProxyError error) {
        session.closeAfterResponse();
        if (forwarding != null) {
            forwarding.abort();
        }
        if (!responseStarted) {
            respondError(error);
        } else if (!done) {
            abortDownstream();
        }
    }

    @Override
    public void onReadComplete() {
        if (forwarding != null && !done) {
            forwarding.onDownstreamReadComplete();
        }
    }

    /** Downstream reads on or off (backpressure towards the client). */
    void readRequest(boolean on) {
        session.readRequest(on);
    }

    @Override
    public void onWritable() {
        if (forwarding != null && !done) {
            forwarding.onDownstreamWritable();
        }
    }

    /** The downstream channel closed (client went away, or the stream was reset). */
    @Override
    public void onClosed() {
        if (forwarding != null) {
            forwarding.abort();
        }
        paused = null;
        if (heldBody != null) {
            heldBody.forEach(HttpContent::release);
            heldBody = null;
        }
        if (!done) {
            done = true;
            if (status == 0) {
                status = 499; // nginx's "client closed request", for the access log only
            }
            log();
        }
    }

    // ---- responses -------------------------------------------------------------------------------

    void respondError(ProxyError error) {
        ErrorCode code = error.code();
        errorCode = code;
        // A policy's refusal (401, 403, 429) is an answer to a well-formed request: the connection stays.
        boolean close = code.side() == ErrorCode.Side.DOWNSTREAM && code != ErrorCode.ROUTE_NOT_FOUND
                && code != ErrorCode.METHOD_NOT_ALLOWED && code != ErrorCode.WEBSOCKET_NOT_ALLOWED
                && code != ErrorCode.UNAUTHORIZED && code != ErrorCode.FORBIDDEN && code != ErrorCode.TOO_MANY_REQUESTS;
        FullHttpResponse res = errorResponse(error);
        if (code == ErrorCode.DRAINING) {
            res.headers().set(HttpHeaderNames.RETRY_AFTER, Math.max(1, session.retryAfterSeconds()));
            close = true;
        }
        respondLocally(res, close);
        if (code == ErrorCode.DRAINING) {
            session.connectionDraining();
        }
    }

    FullHttpResponse errorResponse(ProxyError error) {
        // gRPC's form only where gRPC can be spoken (h2, h3): over h1 a gRPC request gets the JSON envelope
        // saying why (RequestChecks), readable by whoever sent it. gRPC-Web's form on every protocol (its
        // content type was rewritten for the endpoint by then: the mode is what says it was gRPC-Web).
        ErrorRenderer renderer = grpcWeb != null ? ErrorRenderer.grpcWeb(grpcWeb)
                : protocol.isMultiplexed() ? ErrorRenderer.forRequest(request) : ErrorRenderer.JSON;
        return renderer.render(session.alloc(), error, requestId);
    }

    /**
     * Writes a whole response made here; the exchange then ends once the request side is complete too.
     * {@code close}: the connection must not serve another request after it.
     */
    void respondLocally(FullHttpResponse res, boolean close) {
        if (close) {
            session.closeAfterResponse();
        }
        res.headers().set(ForwardingHeaders.X_REQUEST_ID, requestId == null ? newRequestId() : requestId);
        responseStarting(res);
        if (!filters.isEmpty()) {
            res = filterLocalBody(res);
        }
        responseBodyBytes += res.content().readableBytes();
        session.writeResponse(res);
        if (requestComplete || close || session.closesAfterResponse() || upgrade == WebSocketUpgrade.EXTENDED_CONNECT
                || ((protocol == DownstreamProtocol.H2 || protocol == DownstreamProtocol.H3) && "CONNECT".equals(method))) {
            // An h2/h3 CONNECT's stream carries no body to discard: it stays open until told (RST NO_ERROR).
            finish();
        } else {
            readRequest(true); // discard the rest of the body, then finish
        }
    }

    /** A forwarded response that arrived whole (h2/h3 downstream only) goes downstream in one write. */
    void writeWholeResponse(FullHttpResponse res) {
        responseStarting(res);
        if (!filters.isEmpty()) {
            res = filterLocalBody(res); // the body phase sees it as one last part, as for a local response
        }
        session.writeResponse(res);
    }

    /**
     * A local response's body through the body phase, as one last part; a filter that replaced it (compression)
     * gets a response with the new body and its length.
     */
    private FullHttpResponse filterLocalBody(FullHttpResponse res) {
        ByteBuf body = res.content();
        HttpContent out = filters.onResponseBody(this, new DefaultLastHttpContent(body));
        if (out.content() == body) {
            return res;
        }
        FullHttpResponse replaced = new DefaultFullHttpResponse(res.protocolVersion(), res.status(), out.content(),
                res.headers(), res.trailingHeaders());
        replaced.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, out.content().readableBytes());
        return replaced;
    }

    /** A streamed response head goes downstream (the session frames it). */
    void writeResponseHead(HttpResponse res) {
        responseStarting(res);
        session.writeHead(res);
    }

    private void responseStarting(HttpResponse res) {
        if (!filters.isEmpty()) {
            filters.onResponseHead(this, res);
        }
        status = res.status().code();
        responseStarted = true;
        observer.response(this);
    }

    /** The response opened a tunnel (a WebSocket). */
    void tunnelOpened() {
        webSocket = upgrade.isUpgrade();
        observer.tunnelOpened(this);
    }

    /** A limit of ours ended the tunnel. */
    void tunnelClosedBy(String why) {
        tunnelClosedBy = why;
    }

    @Override
    public boolean isWebSocket() {
        return webSocket;
    }

    @Override
    public String tunnelClosedBy() {
        return tunnelClosedBy;
    }

    /** Counts request body bytes that arrived with the head (a whole h2/h3 request). */
    void countRequestBody(long bytes) {
        requestBodyBytes += bytes;
    }

    void countResponseBody(long bytes) {
        responseBodyBytes += bytes;
    }

    /** The error the exchange ends with (the response may already have started). */
    void failedWith(ErrorCode code) {
        errorCode = code;
    }

    boolean responseComplete() {
        return responseStarted && (forwarding == null || forwarding.isResponseComplete());
    }

    /** Response fully written (and request complete, or abandoned). Ends the exchange once. */
    void finish() {
        if (done) {
            return;
        }
        done = true;
        log();
        session.exchangeFinished(requestComplete);
    }

    /** Cut the downstream side: h1 closes the connection, h2/h3 reset the stream. */
    void abortDownstream() {
        if (!done) {
            done = true;
            log();
        }
        session.abort();
    }

    private void log() {
        if (!filters.isEmpty()) {
            filters.onEnd(this);
        }
        observer.complete(this);
    }

    /** An attempt picked its endpoint and is about to send its request (filters run next). */
    void attemptStarted(UpstreamAttempt attempt) {
        lastEndpoint = attempt.endpoint();
        lastAttempt = attempt;
        observer.upstreamRequest(this, attempt);
    }

    // ---- ExchangeView ----------------------------------------------------------------------------

    @Override
    public String listenerName() {
        return listener.name();
    }

    @Override
    public DownstreamProtocol protocol() {
        return protocol;
    }

    @Override
    public boolean isTls() {
        return listener.tls();
    }

    @Override
    public String method() {
        return method;
    }

    @Override
    public String authority() {
        return authority;
    }

    /** The request's Content-Length, -1 without one. */
    long declaredLength() {
        return declaredLength;
    }

    String originForm() {
        return originForm;
    }

    FilterChain filters() {
        return filters;
    }

    @Override
    public String target() {
        return request == null ? null : request.uri();
    }

    @Override
    public HttpHeaders requestHeaders() {
        return request == null ? io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE : request.headers();
    }

    @Override
    public String requestId() {
        return requestId;
    }

    @Override
    public Route route() {
        return route;
    }

    @Override
    public int status() {
        return status;
    }

    @Override
    public ErrorCode errorCode() {
        return errorCode;
    }

    @Override
    public long requestBodyBytes() {
        return requestBodyBytes;
    }

    @Override
    public long responseBodyBytes() {
        return responseBodyBytes;
    }

    @Override
    public long startNanos() {
        return startNanos;
    }

    @Override
    public long startEpochMillis() {
        return startEpochMillis;
    }

    @Override
    public int attempts() {
        return forwarding == null ? 0 : forwarding.attempts();
    }

    @Override
    public Endpoint lastEndpoint() {
        return lastEndpoint;
    }

    @Override
    public String upstreamProtocol() {
        return lastAttempt == null ? null : lastAttempt.protocol().alpn();
    }

    @Override
    public Channel downstreamChannel() {
        return session.channel();
    }

    private Object[] attributes;

    @Override
    @SuppressWarnings("unchecked")
    public <T> T attribute(ExchangeAttribute<T> key) {
        Object[] a = attributes;
        return a == null || key.index() >= a.length ? null : (T) a[key.index()];
    }

    @Override
    public <T> void attribute(ExchangeAttribute<T> key, T value) {
        if (attributes == null || key.index() >= attributes.length) {
            attributes = java.util.Arrays.copyOf(attributes == null ? new Object[0] : attributes,
                    Math.max(4, key.index() + 1));
        }
        attributes[key.index()] = value;
    }

    @Override
    public String traceId() {
        return traceId;
    }

    @Override
    public void traceId(String traceId) {
        this.traceId = traceId;
    }

    /** Captured once: a QUIC connection forgets its peer address when it closes, before the access log. */
    @Override
    public InetAddress clientAddress() {
        if (client == null) {
            peer = session.clientAddress();
            client = request == null || listener.trustedProxies().isEmpty() ? peer
                    : listener.trustedProxies().clientOf(peer, request.headers());
        }
        return client;
    }

    /** The connection's peer: the client address unless a trusted proxy named another in X-Forwarded-For. */
    InetAddress peerAddress() {
        clientAddress();
        return peer;
    }

    HttpResponse continueResponse() {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE);
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static void release(HttpMessage m) {
        io.netty.util.ReferenceCountUtil.release(m);
    }

    private static String requestIdOf(HttpHeaders h) {
        String id = h.get(ForwardingHeaders.X_REQUEST_ID);
        if (id != null && !id.isEmpty() && id.length() <= 200 && id.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            return id;
        }
        return newRequestId();
    }

    /** 0, 1, or 2 for two or more: without {@code getAll}'s list and its String view per request. */
    private static int hostCount(HttpHeaders h) {
        if (!h.contains(HttpHeaderNames.HOST)) {
            return 0;
        }
        var values = h.valueCharSequenceIterator(HttpHeaderNames.HOST);
        values.next();
        return values.hasNext() ? 2 : 1;
    }

    private static final byte[] HEX_DIGITS = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** 128 random bits as 32 hex digits, in one string (String.format costs more than the rest of the exchange's headers). */
    static String newRequestId() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        byte[] b = new byte[32];
        long hi = r.nextLong();
        long lo = r.nextLong();
        for (int i = 15; i >= 0; i--) {
            b[i] = HEX_DIGITS[(int) (hi & 0xf)];
            b[16 + i] = HEX_DIGITS[(int) (lo & 0xf)];
            hi >>>= 4;
            lo >>>= 4;
        }
        return new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
    }
}
