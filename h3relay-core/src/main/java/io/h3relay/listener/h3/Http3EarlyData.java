package io.h3relay.listener.h3;

import io.h3relay.config.Http3Config;
import io.h3relay.exchange.ErrorCode;
import io.h3relay.exchange.LocalResponses;
import io.h3relay.listener.ConnectionObserver;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;
import java.util.Set;

/**
 * RFC 8470 on a request stream that arrived in 0-RTT early data (opened before the QUIC handshake completed:
 * a replayed ClientHello can open it too). A safe method (GET, HEAD, OPTIONS) goes on with {@code Early-Data: 1}
 * added, so the endpoint may answer 425 itself; any other is answered {@code 425 Too Early}
 * ({@code zero_rtt_unsafe: reject}), or held, unread, until the handshake completes and then forwarded as a
 * normal request ({@code wait}; a replay never completes a handshake, so it is never forwarded).
 */
final class Http3EarlyData extends ChannelInboundHandlerAdapter {
    static final String HEADER = "early-data";
    private static final Set<HttpMethod> SAFE = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS);

    private enum State { FIRST, PASS, HOLD, DISCARD }

    private final Http3Config.ZeroRttUnsafe unsafe;
    private final Http3ConnectionGuard guard;
    private final ConnectionObserver observer;
    private State state = State.FIRST;
    private ArrayDeque<Object> held;

    Http3EarlyData(Http3Config.ZeroRttUnsafe unsafe, Http3ConnectionGuard guard, ConnectionObserver observer) {
        this.unsafe = unsafe;
        this.guard = guard;
        this.observer = observer;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        switch (state) {
            case PASS -> ctx.fireChannelRead(msg);
            case DISCARD -> ReferenceCountUtil.release(msg);
            case HOLD -> held.add(msg);
            case FIRST -> first(ctx, msg);
        }
    }

    private void first(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpRequest req)) {
            state = State.PASS;
            ctx.fireChannelRead(msg);
            return;
        }
        guard.earlyRequest();
        if (SAFE.contains(req.method())) {
            req.headers().set(HEADER, "1");
            observer.earlyDataRequest("forwarded");
            state = State.PASS;
            ctx.pipeline().remove(this);
            ctx.fireChannelRead(msg);
        } else if (unsafe == Http3Config.ZeroRttUnsafe.REJECT) {
            observer.earlyDataRequest("rejected");
            state = State.DISCARD;
            ReferenceCountUtil.release(msg);
            ctx.writeAndFlush(LocalResponses.error(ctx.alloc(), ErrorCode.TOO_EARLY, req.method()
                    + " arrived in TLS early data (0-RTT); send it again once the handshake is complete", ""))
                    .addListener(ChannelFutureListener.CLOSE);
        } else {
            observer.earlyDataRequest("held");
            state = State.HOLD;
            held = new ArrayDeque<>();
            held.add(msg);
            ctx.channel().config().setAutoRead(false);
            guard.whenHandshakeDone(() -> release(ctx));
        }
    }

    private void release(ChannelHandlerContext ctx) {
        if (state != State.HOLD || !ctx.channel().isOpen()) {
            return;
        }
        state = State.PASS;
        ArrayDeque<Object> q = held;
        held = null;
        ctx.channel().config().setAutoRead(true);
        Object m;
        while ((m = q.poll()) != null) {
            ctx.fireChannelRead(m);
        }
        ctx.fireChannelReadComplete();
        if (ctx.channel().isOpen()) {
            ctx.pipeline().remove(this);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state == State.PASS) {
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (held != null) {
            held.forEach(ReferenceCountUtil::release);
            held = null;
        }
    }
}
