package io.h3relay.proxy;

import io.h3relay.exchange.DownstreamSession;
import io.h3relay.websocket.WebSocketUpgrade;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.handler.codec.http.DefaultHttpResponse;
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
    /** In a tunnel: the end of the 101's (or CONNECT answer's) own message is still to come and is not the end. */
    private boolean tunnel;
    private boolean headEndPending;
    /** A response the endpoint streams (SSE, or X-Accel-Buffering: no): each part is flushed as it comes. */
    private boolean stream;
    private static final AsciiString X_ACCEL_BUFFERING = AsciiString.cached("x-accel-buffering");

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

    private void onHead(UpstreamAttempt a, HttpResponse res) {
        HttpHeaders h = res.headers();
        ForwardingHeaders.toDownstream(h, a.stream().viaVersion(), ex.requestId,
                forwarding.route.responseHeaders());
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, res.status(), h);
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
        forwarding.endpointStreamActivity();
        ex.countResponseBody(content.content().readableBytes());
        if (last) {
            session.writeLast((LastHttpContent) content);
            forwarding.endpointEndedTunnel();
        } else {
            session.writeBody(content);
        }
    }

    void onReadComplete(UpstreamAttempt a) {
        session.flush();
        if (!session.canTakeMore()) {
            waitingDownstreamWritable = true;
            a.readResponse(false);
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
        if (attempt != null && waitingDownstreamWritable) {
            waitingDownstreamWritable = false;
            attempt.readResponse(true);
        }
    }
}
