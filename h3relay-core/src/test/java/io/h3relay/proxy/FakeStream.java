package io.h3relay.proxy;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.upstream.UpstreamFailure;
import io.h3relay.upstream.UpstreamProtocol;
import io.h3relay.upstream.UpstreamStream;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.nio.charset.StandardCharsets;

/** An {@link UpstreamStream} the test plays the endpoint of: it records the request, and answers on demand. */
final class FakeStream implements UpstreamStream {
    final Endpoint endpoint;
    final boolean reused;
    Listener listener;
    HttpRequest head;
    boolean headHasBody;
    final StringBuilder body = new StringBuilder();
    boolean requestEnded;
    Boolean finishedClean;
    String abortReason;
    boolean tunnel;
    boolean writable = true;
    boolean reading = true;

    FakeStream(Endpoint endpoint, boolean reused) {
        this.endpoint = endpoint;
        this.reused = reused;
    }

    @Override
    public Endpoint endpoint() {
        return endpoint;
    }

    @Override
    public UpstreamProtocol protocol() {
        return UpstreamProtocol.HTTP_1_1;
    }

    @Override
    public void start(Listener l) {
        this.listener = l;
    }

    @Override
    public void writeHead(HttpRequest h, boolean hasBody) {
        this.head = h;
        this.headHasBody = hasBody;
    }

    @Override
    public void writeBody(HttpContent content) {
        body.append(content.content().toString(StandardCharsets.UTF_8));
        if (content instanceof LastHttpContent) {
            requestEnded = true;
        }
        content.release();
    }

    @Override
    public void flush() {
    }

    @Override
    public boolean isWritable() {
        return writable;
    }

    @Override
    public void readResponse(boolean on) {
        reading = on;
    }

    @Override
    public boolean isReused() {
        return reused;
    }

    @Override
    public String viaVersion() {
        return "1.1";
    }

    @Override
    public void finish(boolean clean) {
        finishedClean = clean;
    }

    @Override
    public void abort(String reason) {
        abortReason = reason;
    }

    @Override
    public void enterTunnel() {
        tunnel = true;
    }

    boolean ended() {
        return finishedClean != null || abortReason != null;
    }

    // ---- the endpoint's side ----------------------------------------------------------------------

    void respondHead(int status) {
        listener.onResponse(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status)));
    }

    /** The endpoint completes a WebSocket upgrade: 101 with Upgrade: websocket (and the accept of {@code key}). */
    void respondSwitchingProtocols(String accept) {
        DefaultHttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
        res.headers().set("connection", "Upgrade").set("upgrade", "websocket");
        if (accept != null) {
            res.headers().set("sec-websocket-accept", accept);
        }
        listener.onResponse(res);
    }

    void respondBody(String text) {
        listener.onResponse(new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)));
    }

    void respondLast(String text) {
        listener.onResponse(new DefaultLastHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)));
        listener.onReadComplete();
    }

    void respond(int status, String text) {
        respondHead(status);
        respondLast(text);
    }

    void fail(UpstreamFailure.Kind kind) {
        listener.onFailed(new UpstreamFailure(kind, "endpoint " + endpoint + " " + kind, null));
    }
}
