package io.h3relay.proxy;

import io.h3relay.websocket.WebSocketUpgrade;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.util.ArrayDeque;

/**
 * The request direction of a {@link Forwarding}: the upstream request head, and the body streamed to the
 * current attempt with backpressure (downstream reads stop while the upstream connection is not writable,
 * or not connected yet: then at most one read burst waits in {@code pending}). What went upstream is kept
 * by {@link RequestReplay} up to the route's replay limit, so that a retry can send it again.
 */
final class RequestRelay {
    private final Forwarding forwarding;
    private final Exchange ex;
    /** Made when a part has to wait (usually never: an idle pooled connection is ready at once). */
    private ArrayDeque<HttpContent> pending;
    private final RequestReplay replay;
    private HttpRequest head;
    private boolean hasBody;
    /** The head (and with it possibly body parts) went to the current attempt's endpoint. */
    private boolean headSent;
    private boolean waitingUpstreamWritable;
    private boolean tunnel;
    /** The Sec-WebSocket-Key we made for an extended CONNECT (the 101 must answer it), or null. */
    private String upgradeKey;

    RequestRelay(Forwarding forwarding, long replayLimit) {
        this.forwarding = forwarding;
        this.ex = forwarding.ex;
        this.replay = new RequestReplay(replayLimit);
    }

    String upgradeKey() {
        return upgradeKey;
    }

    /** The upstream request head (forwarding headers, rewritten target); the balancer reads its headers. */
    HttpRequest head() {
        return head;
    }

    /**
     * Builds the upstream head from the downstream one; a whole request (FullHttpMessage) queues its body.
     * Returns whether the client asked for {@code 100 Continue}.
     */
    boolean prepare(HttpRequest req) {
        if (req instanceof FullHttpMessage full) {
            hasBody = full.content().isReadable() || !full.trailingHeaders().isEmpty();
        } else {
            hasBody = ex.session.bodyFollows(req, ex.declaredLength());
        }
        boolean expectContinue = HttpUtil.is100ContinueExpected(req);
        HttpHeaders headers = req.headers();
        headers.remove(HttpHeaderNames.EXPECT);
        ForwardingHeaders.toUpstream(headers, ex.protocol, ex.listener.tls(), ex.peerAddress(), ex.authority(),
                ex.requestId, forwarding.route.requestHeaders());
        HttpMethod method = req.method();
        if (ex.upgrade.isUpgrade()) {
            // Hop-by-hop removal took Connection and Upgrade: they come back for this hop, as an h1 Upgrade
            // whatever the client spoke (an extended CONNECT's stream stays open: it is not a body).
            upgradeKey = ex.upgrade.toUpstream(headers);
            method = HttpMethod.GET;
            if (ex.upgrade == WebSocketUpgrade.EXTENDED_CONNECT) {
                hasBody = false;
            }
        }
        String target = forwarding.route.rewrite(ex.originForm());
        head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, target, headers);
        if (req instanceof FullHttpMessage full) {
            if (hasBody) {
                ex.countRequestBody(full.content().readableBytes());
                pending().add(filtered(new DefaultLastHttpContent(full.content(), full.trailingHeaders())));
            } else {
                // The h1 encoder needs an end-of-message even for an empty body.
                full.release();
                pending().add(filtered(LastHttpContent.EMPTY_LAST_CONTENT));
            }
        }
        return expectContinue;
    }

    private ArrayDeque<HttpContent> pending() {
        if (pending == null) {
            pending = new ArrayDeque<>(4);
        }
        return pending;
    }

    /** The attempt's connection is ready: head and queued body go out, then reads resume. */
    void onUpstreamReady(UpstreamAttempt a) {
        headSent = true;
        a.writeHead(head, hasBody);
        HttpContent c;
        while (pending != null && (c = pending.poll()) != null) {
            send(a, c);
        }
        a.flush();
        requestMoreBody(a);
    }

    /**
     * A body part through the filters' body phase, once, as it arrives: what is queued, sent and kept for a
     * replay is the filtered part, so a retry does not filter it again (a gRPC-Web text body would be decoded twice).
     */
    private HttpContent filtered(HttpContent c) {
        return ex.filters().isEmpty() ? c : ex.filters().onRequestBody(ex, c);
    }

    private void send(UpstreamAttempt a, HttpContent c) {
        if (!tunnel) {
            replay.sending(c); // a tunnel is never replayed
        }
        a.write(c);
    }

    /** A body part from downstream: to the attempt if it is connected, else queued. */
    void onRequestContent(HttpContent content, UpstreamAttempt a) {
        content = filtered(content);
        if (a != null && a.isReady()) {
            send(a, content);
            if (content instanceof LastHttpContent) {
                // The end of a request may come as an event (h3: the stream's FIN) with no read-complete
                // after it, so flush it now rather than on the next read burst.
                a.flush();
            }
        } else {
            pending().add(content);
        }
    }

    /** Tunnel bytes from the client: as they are to the attempt, unless filters or a wait need a body part. */
    void onTunnelBytes(ByteBuf bytes, UpstreamAttempt a) {
        if (a != null && a.isReady() && ex.filters().isEmpty()) {
            a.writeTunnelBytes(bytes);
        } else {
            onRequestContent(new DefaultHttpContent(bytes), a);
        }
    }

    void onDownstreamReadComplete(UpstreamAttempt a) {
        if (ex.requestComplete && !tunnel) {
            return; // the end of the request was flushed with it (a second flush per request walked the pipeline)
        }
        if (a != null && a.isReady()) {
            a.flush();
            requestMoreBody(a);
        }
    }

    /** Bytes from the client go to the endpoint from now on, until the client ends its side. */
    void enterTunnel(UpstreamAttempt a) {
        tunnel = true;
        requestMoreBody(a);
    }

    private void requestMoreBody(UpstreamAttempt a) {
        if ((ex.requestComplete && !tunnel) || forwarding.isFinished()) {
            return;
        }
        if (a.isWritable()) {
            ex.readRequest(true);
        } else {
            waitingUpstreamWritable = true;
            ex.readRequest(false);
        }
    }

    void onUpstreamWritable(UpstreamAttempt a) {
        if (waitingUpstreamWritable) {
            waitingUpstreamWritable = false;
            requestMoreBody(a);
        }
    }

    /**
     * What the endpoint may have seen can be sent again: nothing went upstream yet, or the whole request
     * arrived and is held by the replay copies.
     */
    boolean replayable() {
        return !headSent || (bodyFullyReceived() && replay.isIntact());
    }

    /**
     * What a refused attempt (the endpoint processed nothing) needs to go again: all that was sent is held, even
     * while the rest of the body is still arriving (it follows the replayed part, see {@link #prepareResend}).
     * A refusal often comes between the client's HEADERS and its DATA (h2/h3 clients write them apart).
     */
    boolean replayableSoFar() {
        return !headSent || replay.isIntact();
    }

    /** A request without body, complete, all of it held: what a stale keep-alive connection may resend. */
    boolean bodilessAndComplete() {
        return ex.requestComplete && replay.isIntact() && replay.bytes() == 0;
    }

    /**
     * The request ended, or all the bytes its Content-Length announced arrived: an h2/h3 stream's end may
     * come after the endpoint, which counts the length too, has already answered.
     */
    private boolean bodyFullyReceived() {
        if (ex.requestComplete) {
            return true;
        }
        long declared = ex.declaredLength();
        return declared >= 0 && ex.requestBodyBytes() == declared;
    }

    /** For the next attempt: what went upstream goes again, ahead of what was not sent yet. */
    void prepareResend() {
        if (headSent) {
            replay.replayInto(pending());
            headSent = false;
        }
        waitingUpstreamWritable = false;
    }

    void release() {
        HttpContent c;
        while (pending != null && (c = pending.poll()) != null) {
            c.release();
        }
        replay.release();
    }
}
