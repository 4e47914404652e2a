package io.h3relay.proxy;

import io.h3relay.exchange.DownstreamExchange;
import io.h3relay.exchange.DownstreamProtocol;
import io.h3relay.exchange.DownstreamSession;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link DownstreamSession} that records what the exchange does to it, on an {@link EmbeddedChannel}
 * (its event loop runs the exchange's timers when the test advances time). Body parts are copied to a
 * string and released, as a channel would.
 */
final class FakeSession implements DownstreamSession {
    final EmbeddedChannel channel = new EmbeddedChannel();
    final List<HttpResponse> heads = new ArrayList<>();
    final StringBuilder body = new StringBuilder();
    final List<HttpResponse> interim = new ArrayList<>();
    DownstreamExchange exchange;
    FullHttpResponse local;
    String localBody;
    boolean lastWritten;
    boolean closeAfter;
    Boolean finishedWithRequestComplete;
    boolean aborted;
    boolean tunnel;
    boolean reading = true;
    boolean canTakeMore = true;
    int flushes;

    @Override
    public DownstreamProtocol protocol() {
        return DownstreamProtocol.HTTP_1_1;
    }

    @Override
    public Channel channel() {
        return channel;
    }

    @Override
    public ByteBufAllocator alloc() {
        return channel.alloc();
    }

    @Override
    public EventExecutor executor() {
        return channel.eventLoop();
    }

    @Override
    public InetAddress clientAddress() {
        return InetAddress.getLoopbackAddress();
    }

    @Override
    public boolean isDraining() {
        return false;
    }

    @Override
    public long retryAfterSeconds() {
        return 1;
    }

    @Override
    public boolean bodyFollows(io.netty.handler.codec.http.HttpRequest head, long declaredLength) {
        return !(head instanceof LastHttpContent);
    }

    @Override
    public void writeHead(HttpResponse head) {
        heads.add(head);
    }

    @Override
    public void writeInterim(HttpResponse res) {
        interim.add(res);
    }

    @Override
    public void writeBody(HttpContent content) {
        body.append(content.content().toString(java.nio.charset.StandardCharsets.UTF_8));
        content.release();
    }

    @Override
    public void writeLast(LastHttpContent last) {
        writeBody(last);
        lastWritten = true;
    }

    @Override
    public void writeResponse(FullHttpResponse response) {
        local = response;
        localBody = response.content().toString(java.nio.charset.StandardCharsets.UTF_8);
        ReferenceCountUtil.release(response);
    }

    @Override
    public void flush() {
        flushes++;
    }

    @Override
    public boolean canTakeMore() {
        return canTakeMore;
    }

    @Override
    public void readRequest(boolean on) {
        reading = on;
    }

    @Override
    public void closeAfterResponse() {
        closeAfter = true;
    }

    @Override
    public boolean closesAfterResponse() {
        return closeAfter;
    }

    @Override
    public void exchangeFinished(boolean requestComplete) {
        if (finishedWithRequestComplete != null) {
            throw new AssertionError("exchangeFinished called twice");
        }
        finishedWithRequestComplete = requestComplete;
    }

    @Override
    public void abort() {
        aborted = true;
    }

    @Override
    public void connectionDraining() {
    }

    @Override
    public void enterTunnel() {
        tunnel = true;
    }

    /** Status of what went downstream: a local response's, or the streamed head's. */
    int status() {
        return local != null ? local.status().code() : heads.isEmpty() ? 0 : heads.get(0).status().code();
    }
}
