package io.h3relay.exchange;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * What the three sessions share: the handler's place in the pipeline, the current exchange, response
 * writes and the channel events every protocol forwards the same way. Auto-read is on except under
 * backpressure (a channel that reads by itself costs no syscall per read).
 */
abstract class SessionHandler extends ChannelDuplexHandler implements DownstreamSession {
    private static final Logger LOG = LoggerFactory.getLogger(SessionHandler.class);
    static final AsciiString ALT_SVC = io.h3relay.headers.TrustedNames.ALT_SVC;

    final ListenerState listener;
    final ExchangeStarter starter;
    private final long retryAfterSeconds;
    ChannelHandlerContext ctx;
    DownstreamExchange current;
    /** The write of the current response's last part: an unfinished request is stopped only after it. */
    ChannelFuture lastWrite;
    /** Set once the channel is going away: whatever still arrives is dropped. */
    boolean closing;
    /** The connection (h1) or stream ends with the current response: the one flag for it, set through the method. */
    boolean closeAfterResponse;

    SessionHandler(ListenerState listener, ExchangeStarter starter, long retryAfterSeconds) {
        this.listener = listener;
        this.starter = starter;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    // ---- DownstreamSession: the parts every protocol does alike -----------------------------------

    @Override
    public Channel channel() {
        return ctx.channel();
    }

    @Override
    public ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    @Override
    public EventExecutor executor() {
        return ctx.executor();
    }

    @Override
    public boolean isDraining() {
        return listener.isDraining();
    }

    @Override
    public boolean isReady() {
        return listener.isReady();
    }

    @Override
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    @Override
    public InetAddress clientAddress() {
        Channel ch = ctx.channel();
        while (ch != null) {
            if (ch.hasAttr(ProxiedClient.ADDRESS)) {
                InetAddress proxied = ch.attr(ProxiedClient.ADDRESS).get();
                if (proxied != null) {
                    return proxied;
                }
            }
            // A QUIC connection's remoteAddress() is its connection id; the peer's UDP address is separate.
            SocketAddress a = ch instanceof QuicChannel q ? q.remoteSocketAddress() : ch.remoteAddress();
            if (a instanceof InetSocketAddress isa && isa.getAddress() != null) {
                return isa.getAddress();
            }
            ch = ch.parent();
        }
        return null;
    }

    @Override
    public void writeInterim(HttpResponse interim) {
        ctx.writeAndFlush(interim, ctx.voidPromise());
    }

    @Override
    public void writeHead(HttpResponse head) {
        frameHead(head, false);
        write(head);
    }

    @Override
    public void writeBody(HttpContent content) {
        write(content);
    }

    @Override
    public void writeLast(LastHttpContent last) {
        lastWrite = ctx.writeAndFlush(last);
    }

    @Override
    public void writeResponse(FullHttpResponse response) {
        frameHead(response, true);
        lastWrite = ctx.writeAndFlush(response);
    }

    /**
     * Void promise: a failed write (the client went away) reaches the pipeline as an exception, which ends
     * the exchange and cancels the upstream attempt, without a listener per chunk.
     */
    void write(Object msg) {
        ctx.write(msg, ctx.voidPromise());
    }

    /** Protocol framing and connection headers of a response head; {@code whole}: the body is in it. */
    abstract void frameHead(HttpResponse head, boolean whole);

    /** Sets Alt-Svc when the listener advertises h3 (replacing an endpoint's own: it names its port, not ours). */
    final void advertiseHttp3(HttpResponse head) {
        String altSvc = listener.altSvc();
        if (altSvc != null) {
            head.headers().set(ALT_SVC, altSvc);
        }
    }

    @Override
    public void closeAfterResponse() {
        closeAfterResponse = true;
    }

    @Override
    public boolean closesAfterResponse() {
        return closeAfterResponse;
    }

    @Override
    public void flush() {
        ctx.flush();
    }

    @Override
    public boolean canTakeMore() {
        return ctx.channel().isWritable();
    }

    @Override
    public void readRequest(boolean on) {
        var config = ctx.channel().config();
        if (config.isAutoRead() != on) { // a plain read: the tunnel asks for reads after every read burst
            config.setAutoRead(on); // turning it on issues a read() itself
        }
    }

    // ---- channel events ----------------------------------------------------------------------------

    /** A new exchange for {@code head}'s request. */
    final void startExchange(io.netty.handler.codec.http.HttpRequest head) {
        current = starter.newExchange(this);
        current.start(head);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (current != null) {
            current.onReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        writabilityChanged();
        ctx.fireChannelWritabilityChanged();
    }

    /** The channel (or h2 stream) may take writes again: the exchange resumes if it can. */
    final void writabilityChanged() {
        if (current != null && canTakeMore()) {
            current.onWritable();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed();
        ctx.fireChannelInactive();
    }

    /** The channel (or h2 stream) is gone: the exchange on it ends. */
    final void closed() {
        closing = true;
        DownstreamExchange ex = current;
        current = null;
        if (ex != null) {
            ex.onClosed();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof io.netty.handler.codec.DecoderException && current == null) {
            // The h2 stream adapter could not turn the client's field section into a request (a :path with a
            // space, :authority and host that disagree): the request is malformed, not our bug.
            LOG.debug("downstream channel {}: malformed request", ctx.channel(), cause);
            malformedRequest();
            return;
        }
        if (cause instanceof java.io.IOException || cause instanceof io.netty.handler.codec.quic.QuicException
                || cause instanceof io.netty.handler.codec.http2.Http2Exception) {
            LOG.debug("downstream channel {} failed", ctx.channel(), cause);
        } else {
            // Network input is handled without exceptions; anything landing here is a bug to fix.
            LOG.error("internal error on downstream channel {}", ctx.channel(), cause);
        }
        closeChannel();
    }

    /** A request that could not be decoded: h2 resets the stream with PROTOCOL_ERROR; elsewhere close. */
    void malformedRequest() {
        closeChannel();
    }

    /** Closes what this session serves: its h1 connection, h3 stream channel, or h2 stream. */
    void closeChannel() {
        ctx.close();
    }

    static void release(Object msg) {
        ReferenceCountUtil.release(msg);
    }
}
