package io.h3relay.proxy;

import java.util.concurrent.TimeUnit;
import io.h3relay.grpc.Grpc;
import io.h3relay.grpc.GrpcStatus;
import io.netty.util.ReferenceCountUtil;
import io.h3relay.exchange.DownstreamSession;
import io.h3relay.websocket.WebSocketUpgrade;
import io.netty.util.AsciiString;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * The response direction of a {@link Forwarding}: the endpoint's response head and body go downstream
 * through the exchange's {@link DownstreamSession}, and the upstream stream reads only while the session
 * can take more.
 */
final class ResponseRelay {
    private final Forwarding forwarding;
    private final Exchange ex;
    private final DownstreamSession session;
    private boolean complete;
    private boolean waitingDownstreamWritable;
    /** When the current wait for the client began (System.nanoTime), and the send_timeout timer. */
    private long stalledSince;
    private io.netty.util.concurrent.ScheduledFuture<?> stallTimer;
    /** In a tunnel: the end of the 101's (or CONNECT answer's) own message is still to come and is not the end. */
    private boolean tunnel;
    private boolean headEndPending;
    /** A response the endpoint streams (SSE, or X-Accel-Buffering: no): each part is flushed as it comes. */
    private boolean stream;
    private static final AsciiString X_ACCEL_BUFFERING = AsciiString.cached("x-accel-buffering");
    /** A gRPC request answered with a non-gRPC HTTP error: the gRPC response it maps to, sent at its end. */
    private FullHttpResponse mappedGrpc;

    ResponseRelay(Forwarding forwarding) {
        this.forwarding = forwarding;
        this.ex = forwarding.ex;
        this.session = ex.session;
    }

    boolean isComplete() {
        return complete;
    }

    /** A response head or body part from the current attempt, already accepted (not retried). */
    void onResponse(UpstreamAttempt a, HttpObject msg) {
        if (tunnel) {
            onTunnelBytes((HttpContent) msg);
            return;
        }
        if (mappedGrpc != null || (forwarding.grpc && msg instanceof HttpResponse r && r.status().code() != 200
                && !r.headers().contains(Grpc.GRPC_STATUS) && (ex.protocol.isMultiplexed() || ex.grpcWeb != null))) {
            onNonGrpcAnswer(a, msg);
            return;
        }
        if (msg instanceof FullHttpResponse whole && ex.protocol.isMultiplexed() && !opensTunnel(whole)) {
            // A whole response in one message (h2: a HEADERS frame with END_STREAM, e.g. a gRPC trailers-only
            // response): it goes out whole too, so that h2/h3 clients see one HEADERS frame with END_STREAM
            // and not headers followed by an empty DATA frame (gRPC reads the first as trailers-only).
            onWhole(a, whole);
            return;
        }
        if (msg instanceof HttpResponse res) {
            if (res.status().code() == 101 && !upgradeCompleted(a, res)) {
                return;
            }
            onHead(a, res);
            if (opensTunnel(res)) {
                tunnel = true;
                headEndPending = !(msg instanceof LastHttpContent);
                forwarding.enterTunnel(a);
                return;
            }
        }
        if (msg instanceof HttpContent content) {
            if (msg instanceof HttpResponse && msg instanceof FullHttpMessage full) {
                content = new DefaultLastHttpContent(full.content(), full.trailingHeaders());
            }
            if (!ex.filters().isEmpty()) {
                content = ex.filters().onResponseBody(ex, content);
            }
            ex.countResponseBody(content.content().readableBytes());
            if (content instanceof LastHttpContent last) {
                complete = true;
                session.writeLast(last);
                forwarding.completeExchange();
            } else {
                session.writeBody(content);
                if (stream) {
                    // Each event leaves now, not at the end of the read burst: it may be the last for a while.
                    forwarding.endpointStreamActivity();
                    session.flush();
                }
            }
        }
    }

    /**
     * The endpoint answered a gRPC request with an HTTP status other than 200 and no {@code grpc-status}
     * (a plain HTTP error page): the client gets the gRPC status gRPC's table maps it to, as a trailers-only
     * response once the endpoint's body has been read and dropped.
     */
    private void onNonGrpcAnswer(UpstreamAttempt a, HttpObject msg) {
        if (msg instanceof HttpResponse res) {
            int status = res.status().code();
            mappedGrpc = Grpc.trailersOnly(GrpcStatus.fromHttpStatus(status), "endpoint " + a.endpoint()
                    + " answered HTTP " + status + " (request_id " + ex.requestId + ")");
            ForwardingHeaders.toDownstream(mappedGrpc.headers(), a.stream().viaVersion(), ex.requestId,
                    forwarding.route.responseHeaders());
        }
        boolean last = msg instanceof LastHttpContent;
        ReferenceCountUtil.release(msg);
        if (last) {
            complete = true;
            FullHttpResponse res = mappedGrpc;
            mappedGrpc = null;
            ex.writeWholeResponse(res);
            forwarding.completeExchange();
        }
    }

    private void onWhole(UpstreamAttempt a, FullHttpResponse res) {
        HttpHeaders h = res.headers();
        ForwardingHeaders.toDownstream(h, a.stream().viaVersion(), ex.requestId,
                forwarding.route.responseHeaders());
        HttpContent body = new DefaultLastHttpContent(res.content(), res.trailingHeaders());
        if (!ex.filters().isEmpty()) {
            body = ex.filters().onResponseBody(ex, body);
        }
        ex.countResponseBody(body.content().readableBytes());
        HttpHeaders trailers = body instanceof LastHttpContent last ? last.trailingHeaders()
                : io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE;
        complete = true;
        ex.writeWholeResponse(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, res.status(), body.content(), h,
                trailers));
        forwarding.completeExchange();
    }

    private void onHead(UpstreamAttempt a, HttpResponse res) {
        HttpHeaders h = res.headers();
        ForwardingHeaders.toDownstream(h, a.stream().viaVersion(), ex.requestId,
                forwarding.route.responseHeaders());
        // The endpoint's head goes on as it is when it already says HTTP/1.1 and carries no body part; a 101
        // gets its own, since the downstream side rewrites it (h2/h3: 200) and the caller still reads the 101.
        HttpResponse head = res.protocolVersion() == HttpVersion.HTTP_1_1 && !(res instanceof HttpContent)
                && res.status().code() != 101 ? res : new DefaultHttpResponse(HttpVersion.HTTP_1_1, res.status(), h);
        if (head.status().code() == 101) {
            ex.upgrade.toDownstream(head); // h1: 101 + Upgrade; h2/h3: 200 (RFC 8441 section 5)
        } else if (isStream(h)) {
            stream = true;
            forwarding.responseIsStream();
        }
        h.remove(X_ACCEL_BUFFERING); // for this hop only, as nginx hides it
        ex.writeResponseHead(head);
    }

    /**
     * A 101 must complete the upgrade the request asked for (Upgrade: websocket, and our key's accept value
     * for an extended CONNECT); anything else is a bad response, and the client gets a 502 rather than a
     * tunnel to a protocol it did not ask for.
     */
    private boolean upgradeCompleted(UpstreamAttempt a, HttpResponse res) {
        if (ex.upgrade.isUpgrade() && WebSocketUpgrade.accepted(res, forwarding.upgradeKey())) {
            return true;
        }
        ReferenceCountUtil.release(res);
        forwarding.onBadUpgrade(a, ex.upgrade.isUpgrade()
                ? "endpoint " + a.endpoint() + " answered the WebSocket upgrade with a 101 that does not complete it"
                : "endpoint " + a.endpoint() + " switched protocols without an upgrade request");
        return false;
    }

    /**
     * Server-Sent Events, or a response whose endpoint asks for no buffering as it would of nginx
     * ({@code X-Accel-Buffering: no}; {@code yes} keeps the ordinary handling). Nothing buffers a response
     * body here in any case; what changes is flushing per part and the timeouts (see
     * {@link Forwarding#responseIsStream}).
     */
    private static boolean isStream(HttpHeaders h) {
        String buffering = h.get(X_ACCEL_BUFFERING);
        if (buffering != null) {
            return buffering.trim().equalsIgnoreCase("no");
        }
        String type = h.get(io.netty.handler.codec.http.HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.regionMatches(true, 0, "text/event-stream", 0, 17);
    }

    /** {@code 101}, or a 2xx to CONNECT: the stream carries bytes from now on. */
    private boolean opensTunnel(HttpResponse res) {
        int status = res.status().code();
        return status == 101 || (status / 100 == 2 && "CONNECT".equals(ex.method) && !ex.upgrade.isUpgrade());
    }

    private void onTunnelBytes(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (headEndPending && last && !content.content().isReadable()) {
            headEndPending = false; // the 101 message's own end, decoded with its head
            content.release();
            return;
        }
        headEndPending = false;
        if (!forwarding.relayEndpointBytes(content.content())) {
            content.release(); // the endpoint's answer to a close of ours
            if (last) {
                forwarding.endpointEndedWhileClosing();
            }
            return;
        }
        forwarding.endpointStreamActivity();
        ex.countResponseBody(content.content().readableBytes());
        if (last) {
            session.writeLast((LastHttpContent) content);
            forwarding.endpointEndedTunnel();
        } else {
            session.writeBody(content);
        }
    }

    /** Tunnel bytes from the endpoint, not its end: {@link #onTunnelBytes(HttpContent)} without the part. */
    void onTunnelBytes(io.netty.buffer.ByteBuf bytes) {
        if (!tunnel) {
            onResponse(forwarding.attempt, new io.netty.handler.codec.http.DefaultHttpContent(bytes));
            return;
        }
        headEndPending = false;
        if (!forwarding.relayEndpointBytes(bytes)) {
            bytes.release(); // the endpoint's answer to a close of ours
            return;
        }
        forwarding.endpointStreamActivity();
        ex.countResponseBody(bytes.readableBytes());
        session.writeTunnelBytes(bytes);
    }

    void onReadComplete(UpstreamAttempt a) {
        session.flush();
        if (!session.canTakeMore()) {
            waitingDownstreamWritable = true;
            a.readResponse(false);
            stalledSince = System.nanoTime();
            if (stallTimer == null) {
                armStallTimer(ex.listener.limits().sendTimeout().toNanos());
            }
        }
    }

    /**
     * limits.send_timeout: one lazy timer per exchange (armed at the first stall, re-armed for what is left
     * while the client keeps taking data), so a fast download pays no timer work per stall.
     */
    private void armStallTimer(long delayNanos) {
        stallTimer = session.executor().schedule(this::checkStall, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void checkStall() {
        stallTimer = null;
        if (!waitingDownstreamWritable || complete) {
            return;
        }
        long limit = ex.listener.limits().sendTimeout().toNanos();
        long left = stalledSince + limit - System.nanoTime();
        if (left > 0) {
            armStallTimer(left);
        } else {
            forwarding.downstreamStalled(limit);
        }
    }

    /** The session can take more (it confirmed the capacity, see Http3StreamSession). */
    void onDownstreamWritable() {
        if (waitingDownstreamWritable) {
            waitingDownstreamWritable = false;
            forwarding.attempt.readResponse(true);
        }
    }

    /** Forwarding ended: a connection paused for backpressure reads again (pooled connections read while idle). */
    void end(UpstreamAttempt attempt) {
        if (stallTimer != null) {
            stallTimer.cancel(false);
            stallTimer = null;
        }
        if (attempt != null && waitingDownstreamWritable) {
            waitingDownstreamWritable = false;
            attempt.readResponse(true);
        }
    }
}
