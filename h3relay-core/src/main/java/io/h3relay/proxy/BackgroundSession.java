package io.h3relay.proxy;

import io.h3relay.exchange.DownstreamProtocol;
import io.h3relay.exchange.DownstreamSession;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.EventExecutor;

import java.net.InetAddress;

/**
 * The downstream side of an exchange a filter started in the background ({@code FilterContext.spawn}: a
 * cache's stale-while-revalidate refresh). Nobody reads its response: every part is dropped as it comes, it
 * always takes more, and it ends with nothing to close. It runs on the event loop of the exchange that
 * spawned it and names that exchange's channel and client (for observers), but never touches them.
 */
final class BackgroundSession implements DownstreamSession {
    private final DownstreamProtocol protocol;
    private final Channel channel;
    private final InetAddress client;

    BackgroundSession(DownstreamProtocol protocol, Channel channel, InetAddress client) {
        this.protocol = protocol;
        this.channel = channel;
        this.client = client;
    }

    @Override
    public DownstreamProtocol protocol() {
        return protocol;
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
        return client;
    }

    @Override
    public boolean isDraining() {
        return false;
    }

    @Override
    public long retryAfterSeconds() {
        return 0;
    }

    @Override
    public boolean bodyFollows(HttpRequest head, long declaredLength) {
        return false;
    }

    @Override
    public void writeHead(HttpResponse head) {
    }

    @Override
    public void writeInterim(HttpResponse interim) {
    }

    @Override
    public void writeBody(HttpContent content) {
        content.release();
    }

    @Override
    public void writeLast(LastHttpContent last) {
        last.release();
    }

    @Override
    public void writeResponse(FullHttpResponse response) {
        response.release();
    }

    @Override
    public void flush() {
    }

    @Override
    public boolean canTakeMore() {
        return true;
    }

    @Override
    public void readRequest(boolean on) {
    }

    @Override
    public void closeAfterResponse() {
    }

    @Override
    public boolean closesAfterResponse() {
        return false;
    }

    @Override
    public void exchangeFinished(boolean requestComplete) {
    }

    @Override
    public void abort() {
    }

    @Override
    public void connectionDraining() {
    }

    @Override
    public void enterTunnel() {
    }
}
