package io.h3relay.proxy;

import io.h3relay.cluster.Cluster;
import io.h3relay.cluster.Endpoint;
import io.h3relay.route.Route;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
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
 * The forwarding half of an exchange: picks endpoints, runs attempts, and streams the body both ways with
 * backpressure. Each side reads only while the other side is writable:
 *
 * <pre>
 *   downstream ──read──► request body ──write──► upstream     (auto-read off while upstream unwritable)
 *   downstream ◄──write── response body ◄──read── upstream    (auto-read off while downstream unwritable)
 * </pre>
 *
 * Both sides read by themselves (auto-read) and stop only under backpressure: no per-request read
 * syscalls in the common case. Nothing holds a whole body: while connecting, downstream reads stop and
 * at most one read burst waits in {@code pending}.
 */
final class Forwarding {
    /** Without a route timeout, the response head must arrive within this (like nginx's proxy_read_timeout). */
    static final Duration DEFAULT_RESPONSE_HEAD_TIMEOUT = Duration.ofSeconds(60);
    /** Extra tries when a reused keep-alive connection turns out closed before any response byte. */
    private static final int MAX_STALE_RETRIES = 2;

    final Exchange ex;
    private final Route route;
    private final Cluster cluster;
    private final ChannelHandlerContext ctx;
    private final ArrayDeque<HttpContent> pending = new ArrayDeque<>(4);
    private final Set<Endpoint> tried = new HashSet<>(4);
    private HttpRequest upstreamHead;
    private UpstreamAttempt attempt;
    private ScheduledFuture<?> timeout;
    private boolean timeoutCoversWholeExchange;
    private boolean bodySent;
    private boolean upstreamKeepAlive;
    private boolean responseComplete;
    private boolean finished;
    private boolean waitingUpstreamWritable;
    private boolean waitingDownstreamWritable;
    private int staleRetries;

    Forwarding(Exchange ex, Route route) {
        this.ex = ex;
        this.route = route;
        this.cluster = route.cluster();
        this.ctx = ex.ctx;
    }

    boolean isFinished() {
        return finished;
    }

    boolean isResponseComplete() {
        return responseComplete;
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
        newAttempt();
    }

    private void newAttempt() {
        Endpoint endpoint = cluster.pick(new RequestPickContext(upstreamHead.headers(), ex.clientAddress()), tried);
        if (endpoint == null) {
            fail(new ProxyError(ErrorCode.NO_ENDPOINT_AVAILABLE, "cluster " + cluster.name() + " has no endpoint available"));
            return;
        }
        tried.add(endpoint);
        attempt = new UpstreamAttempt(this, cluster.pool(endpoint));
        ex.attemptStarted(attempt, upstreamHead.headers());
        attempt.start(ctx.channel().eventLoop());
    }

    // ---- request direction ----------------------------------------------------------------------

    void onUpstreamReady(UpstreamAttempt a) {
        if (a != attempt || finished) {
            a.finish(true);
            return;
        }
        a.write(upstreamHead);
        HttpContent c;
        while ((c = pending.poll()) != null) {
            bodySent |= c.content().isReadable();
            a.write(c);
        }
        a.flush();
        requestMoreBody();
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

    void onRequestContent(HttpContent content) {
        if (content instanceof LastHttpContent) {
            armResponseHeadTimeout();
        }
        if (attempt != null && attempt.isReady()) {
            bodySent |= content.content().isReadable();
            attempt.write(content);
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

    // ---- response direction ---------------------------------------------------------------------

    void onResponse(UpstreamAttempt a, HttpObject msg) {
        if (a != attempt || finished) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse res) {
            onResponseHead(res);
        }
        if (msg instanceof HttpContent content) {
            if (msg instanceof HttpResponse && msg instanceof FullHttpMessage full) {
                content = new DefaultLastHttpContent(full.content(), full.trailingHeaders());
            }
            ex.responseBodyBytes += content.content().readableBytes();
            if (content instanceof LastHttpContent) {
                responseComplete = true;
                ex.lastWrite = ctx.writeAndFlush(content);
                completeExchange();
            } else {
                writeDownstream(content);
            }
        }
    }

    private void onResponseHead(HttpResponse res) {
        if (!timeoutCoversWholeExchange && timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
        upstreamKeepAlive = HttpUtil.isKeepAlive(res);
        HttpHeaders h = res.headers();
        ForwardingHeaders.toDownstream(h, viaVersion(res.protocolVersion()), ex.requestId, route.responseHeaders());
        HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, res.status(), h);
        ex.writeResponseHead(out);
        writeDownstream(out);
    }

    /**
     * Void promise: a failed write (the client went away) reaches the pipeline as an exception, which
     * ends the exchange and cancels the upstream attempt, without a listener per chunk.
     */
    private void writeDownstream(HttpObject msg) {
        ctx.write(msg, ctx.voidPromise());
    }

    void onResponseReadComplete(UpstreamAttempt a) {
        if (a != attempt || finished) {
            return;
        }
        ctx.flush();
        if (!downstreamCanTakeMore()) {
            waitingDownstreamWritable = true;
            a.readResponse(false);
        }
    }

    void onDownstreamWritabilityChanged(boolean writable) {
        if (writable && waitingDownstreamWritable && !finished) {
            if (!downstreamCanTakeMore()) {
                // A QUIC stream may report writable with no capacity yet (netty#17429): look again shortly
                // instead of resuming reads that would pile up in the stream's queue.
                ctx.executor().schedule(() -> onDownstreamWritabilityChanged(ctx.channel().isWritable()),
                        1, TimeUnit.MILLISECONDS);
                return;
            }
            waitingDownstreamWritable = false;
            attempt.readResponse(true);
        }
    }

    private boolean downstreamCanTakeMore() {
        return ctx.channel().isWritable() && ctx.channel().bytesBeforeUnwritable() > 0;
    }

    /** The last response byte went downstream. */
    private void completeExchange() {
        boolean reusable = ex.requestComplete && upstreamKeepAlive;
        if (!ex.requestComplete) {
            // The endpoint answered before the whole request arrived: neither side can carry on cleanly.
            ex.closeAfterResponse = true;
        }
        end(reusable);
        ex.finish();
    }

    // ---- failures -------------------------------------------------------------------------------

    void onAttemptFailed(UpstreamAttempt a, ProxyError error) {
        if (a != attempt || finished) {
            return;
        }
        a.failed(error);
        a.finish(false);
        if (!ex.responseStarted && error.code() == ErrorCode.UPSTREAM_RESET && a.reusedConnection()
                && !bodySent && pending.isEmpty() && ex.requestComplete && staleRetries < MAX_STALE_RETRIES) {
            // A keep-alive connection closed by the endpoint as we reused it: nothing was processed, go again.
            staleRetries++;
            tried.remove(a.endpoint());
            // The first attempt consumed the (empty) end of the request: the retry sends it again.
            pending.add(LastHttpContent.EMPTY_LAST_CONTENT);
            newAttempt();
            return;
        }
        fail(error);
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
        if (attempt != null && waitingDownstreamWritable) {
            attempt.readResponse(true); // pooled connections read while idle
        }
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
        if (attempt != null) {
            attempt.finish(reusable);
        }
        HttpContent c;
        while ((c = pending.poll()) != null) {
            c.release();
        }
    }

    private static String viaVersion(HttpVersion v) {
        return v.majorVersion() + "." + v.minorVersion();
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
