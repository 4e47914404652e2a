package io.h3relay.proxy;

import io.h3relay.exchange.DownstreamProtocol;
import io.h3relay.listener.ListenerContext;
import io.h3relay.listener.h1.Http1RequestTimeouts;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;

/**
 * The downstream end of the forwarding pipeline, installed on every request channel: an h1 connection
 * (several exchanges one after another) or an h2 stream (one exchange). It sees the protocol-neutral
 * {@code HttpObject} view produced by the protocol's codec. Auto-read is off: every read is asked for.
 */
public final class ProxyHandler extends ChannelDuplexHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyHandler.class);

    /** Sent on a connection or stream when the server starts draining. */
    public static final Object DRAIN_EVENT = new Object() {
        @Override
        public String toString() {
            return "DRAIN_EVENT";
        }
    };

    /** Decoded h1 messages held while an earlier request is answered, before reading pauses. */
    private static final int MAX_PIPELINED = 16;
    /** How long a refused upload may keep sending after our response, before the connection closes. */
    private static final long LINGER_MILLIS = 2_000;

    private final ListenerContext listener;
    private final DownstreamProtocol streamProtocol; // null: h1, decided per request from its version
    private final long retryAfterSeconds;
    private final ArrayDeque<Object> pipelined = new ArrayDeque<>(2);
    private ChannelHandlerContext ctx;
    private Http1RequestTimeouts timeouts;
    private Exchange current;
    private boolean started;
    private boolean closing;

    private ProxyHandler(ListenerContext listener, DownstreamProtocol streamProtocol, long retryAfterSeconds) {
        this.listener = listener;
        this.streamProtocol = streamProtocol;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** For an HTTP/1.x connection. */
    public static ProxyHandler forHttp1(ListenerContext listener, long retryAfterSeconds) {
        return new ProxyHandler(listener, null, retryAfterSeconds);
    }

    /** For one h2 (later h3) stream channel. */
    public static ProxyHandler forStream(ListenerContext listener, DownstreamProtocol protocol, long retryAfterSeconds) {
        return new ProxyHandler(listener, protocol, retryAfterSeconds);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.timeouts = ctx.pipeline().get(Http1RequestTimeouts.class);
        if (ctx.channel().isActive()) {
            startReading();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        startReading();
        ctx.fireChannelActive();
    }

    private void startReading() {
        if (!started) {
            started = true;
            awaitRequest();
        }
    }

    private void awaitRequest() {
        if (timeouts != null) {
            timeouts.awaitingHead();
        }
        readDownstream(true);
    }

    /**
     * Auto-read is on except under backpressure (upstream unwritable, upstream not connected yet, too many
     * pipelined requests waiting): a channel that reads by itself costs no syscall per read.
     */
    void readDownstream(boolean on) {
        ctx.channel().config().setAutoRead(on); // turning it on issues a read() itself
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) {
            ReferenceCountUtil.release(msg);
        } else if (msg instanceof Http2ResetFrame) {
            // The client reset its stream: stop the exchange; the stream channel closes next.
            if (current != null) {
                current.onDownstreamClosed();
            }
        } else if (!pipelined.isEmpty() || (current != null && current.requestComplete)) {
            // h1 pipelining: the next request waits until this response is written.
            pipelined.add(msg);
            if (pipelined.size() >= MAX_PIPELINED) {
                readDownstream(false);
            }
        } else {
            dispatch(msg);
        }
    }

    private void dispatch(Object msg) {
        if (current != null) {
            if (msg instanceof HttpContent content) {
                current.onRequestContent(content);
            } else {
                ReferenceCountUtil.release(msg);
            }
        } else if (msg instanceof HttpRequest req) {
            if (timeouts != null) {
                timeouts.headReceived();
            }
            current = new Exchange(this, ctx, listener, protocolOf(req));
            current.start(req);
        } else {
            ReferenceCountUtil.release(msg); // the rest of a body we already answered and gave up on
        }
    }

    private DownstreamProtocol protocolOf(HttpRequest req) {
        if (streamProtocol != null) {
            return streamProtocol;
        }
        return req.protocolVersion().equals(HttpVersion.HTTP_1_0) ? DownstreamProtocol.HTTP_1_0
                : DownstreamProtocol.HTTP_1_1;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (current != null && !current.done) {
            current.onDownstreamReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (current != null) {
            current.onDownstreamWritabilityChanged(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        if (current != null) {
            current.onDownstreamClosed();
            current = null;
        }
        Object m;
        while ((m = pipelined.poll()) != null) {
            ReferenceCountUtil.release(m);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == DRAIN_EVENT) {
            // Idle h1 connections close now; busy ones send Connection: close with their response.
            if (streamProtocol == null && current == null) {
                closing = true;
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException || cause instanceof io.netty.handler.codec.quic.QuicException
                || cause instanceof io.netty.handler.codec.http2.Http2Exception) {
            LOG.debug("downstream channel {} failed", ctx.channel(), cause);
        } else {
            // Network input is handled without exceptions; anything landing here is a bug to fix.
            LOG.error("internal error on downstream channel {}", ctx.channel(), cause);
        }
        ctx.close();
    }

    // ---- called by Exchange ---------------------------------------------------------------------

    void exchangeFinished(Exchange ex) {
        if (ex != current) {
            return;
        }
        current = null;
        if (streamProtocol != null) {
            if (!ex.requestComplete) {
                resetUnfinishedRequest(ex.lastWrite);
            } else if (ex.closeAfterResponse) {
                ctx.close();
            }
            return;
        }
        if (ex.closeAfterResponse || listener.isDraining()) {
            // Draining: a response that started before the drain could not say Connection: close; the
            // connection ends after it anyway, so the drain does not wait for the keep-alive timeout.
            closing = true;
            ChannelFuture sent = ctx.writeAndFlush(Unpooled.EMPTY_BUFFER);
            sent.addListener(ex.requestComplete ? ChannelFutureListener.CLOSE : f -> lingeringClose());
            return;
        }
        Object m;
        while ((m = pipelined.poll()) != null) {
            dispatch(m);
            if (current != null && current.requestComplete && !pipelined.isEmpty()) {
                return; // the next pipelined request waits for this one's response
            }
            if (closing) {
                return;
            }
        }
        if (current == null) {
            awaitRequest();
        } else if (!current.done) {
            current.onDownstreamReadComplete();
        }
    }

    /**
     * The response is complete but the client is still sending its body (e.g. a 413): stop the upload with
     * RST_STREAM NO_ERROR, which tells the client to keep the response (RFC 9113 section 8.1). Only once the
     * response went out: a reset drops the stream's DATA still queued in h2 flow control, and a bare close
     * would do that too, with CANCEL.
     */
    private void resetUnfinishedRequest(ChannelFuture responseSent) {
        closing = true;
        ChannelFutureListener reset = f -> {
            if (streamProtocol == DownstreamProtocol.H3) {
                // STOP_SENDING: the response (already sent with FIN) stands, the upload stops.
                ((QuicStreamChannel) ctx.channel()).shutdownInput(Http3ErrorCode.H3_NO_ERROR.code());
            } else {
                ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
            }
            ctx.close();
        };
        if (responseSent == null) {
            ctx.close();
        } else {
            responseSent.addListener(reset);
        }
    }

    /**
     * The client may still be sending a body we refused (e.g. 413): closing now, with its bytes unread, makes
     * the kernel send RST, which can destroy our response before the client reads it. Like nginx's
     * lingering close: half-close, read and discard for a while, then close.
     */
    private void lingeringClose() {
        if (!(ctx.channel() instanceof io.netty.channel.socket.SocketChannel socket) || !socket.isActive()) {
            ctx.close();
            return;
        }
        socket.shutdownOutput();
        socket.config().setAutoRead(true);
        ctx.executor().schedule(() -> {
            ctx.close();
        }, LINGER_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    void abortDownstream() {
        closing = true;
        if (streamProtocol == DownstreamProtocol.H2) {
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR));
        } else if (streamProtocol == DownstreamProtocol.H3) {
            // RESET_STREAM + STOP_SENDING: the client must not take what it got as a complete response.
            ((QuicStreamChannel) ctx.channel()).shutdown(Http3ErrorCode.H3_INTERNAL_ERROR.code());
        }
        ctx.close();
    }

    /**
     * A request was refused because the server drains, on a connection that has not been told yet (it was
     * made after the drain began): h2 and h3 connections send GOAWAY now, after this stream; h1 already
     * said Connection: close.
     */
    void connectionDraining() {
        Channel parent = ctx.channel().parent();
        if (streamProtocol != null && parent != null) {
            parent.pipeline().fireUserEventTriggered(DRAIN_EVENT);
        }
    }

    long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    InetAddress clientAddress() {
        Channel ch = ctx.channel();
        while (ch != null) {
            // A QUIC connection's remoteAddress() is its connection id; the peer's UDP address is separate.
            SocketAddress a = ch instanceof io.netty.handler.codec.quic.QuicChannel q ? q.remoteSocketAddress()
                    : ch.remoteAddress();
            if (a instanceof InetSocketAddress isa && isa.getAddress() != null) {
                return isa.getAddress();
            }
            ch = ch.parent();
        }
        return null;
    }
}
