package io.h3relay.exchange;

import io.h3relay.transport.DirectSend;
import io.h3relay.transport.HalfClose;
import io.h3relay.transport.TunnelReadBuffer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP/1.x connection: its exchanges one after another. Owns what is HTTP/1 about them: keep-alive and
 * {@code Connection} headers, chunked or close-delimited (1.0) response bodies, pipelined requests held
 * until the response before them is written, the close after a response that must be the last, and the
 * lingering close that keeps a response from being destroyed by the client's unread upload.
 */
public final class Http1Session extends SessionHandler {
    /** Decoded messages held while an earlier request is answered, before reading pauses. */
    private static final int MAX_PIPELINED = 16;
    /** How long a refused upload may keep sending after our response, before the connection closes. */
    private static final long LINGER_MILLIS = 2_000;

    /** The head timers of the connection (keep-alive and request-head timeouts), told when a head is due. */
    public interface HeadTimer extends Framing {
        void awaitingHead();

        void headReceived();

        HeadTimer NONE = new HeadTimer() {
            @Override
            public void awaitingHead() {
            }

            @Override
            public void headReceived() {
            }
        };
    }

    /** A handler of the connection's h1 byte stream (head scanner, head timers): leaves when it becomes a tunnel. */
    public interface Framing {
    }

    private final ArrayDeque<Object> pipelined = new ArrayDeque<>(2);
    private HeadTimer timer = HeadTimer.NONE;
    private boolean started;
    // The current request:
    private DownstreamProtocol protocol = DownstreamProtocol.HTTP_1_1;
    private boolean keepAlive;
    private boolean headRequest;
    private boolean connectRequest;
    private boolean requestEnded;
    private boolean tunnel;
    /**
     * A write since the last flush. A flush with nothing to send still walks the pipeline (codec, head): the
     * read-complete flush after a response whose last part went out with writeAndFlush is skipped.
     */
    private boolean unflushed;
    /**
     * A streamed response's head, held until what follows it in the same read of the endpoint: when that is
     * the whole body (a small response), head and body go out as one message, one encode and one buffer
     * (a write instead of a writev). Anything else (a body part, a flush at the end of the read) writes it
     * first. Never held for a head that opens a tunnel (the codec leaves right after it).
     */
    private HttpResponse heldHead;
    /** In a tunnel on a plaintext epoll socket: its bytes are sent at once (see DirectSend); else null. */
    private io.netty.channel.unix.Socket directSocket;

    public Http1Session(ListenerState listener, ExchangeStarter starter, long retryAfterSeconds) {
        super(listener, starter, retryAfterSeconds);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        super.handlerAdded(ctx);
        for (var e : ctx.pipeline()) {
            if (e.getValue() instanceof HeadTimer t) {
                timer = t;
            }
        }
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
        timer.awaitingHead();
        readRequest(true);
    }

    @Override
    public DownstreamProtocol protocol() {
        return protocol;
    }

    // ---- requests in -------------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) {
            release(msg);
        } else if (tunnel) {
            if (current != null && msg instanceof ByteBuf bytes) {
                current.onTunnelBytes(bytes);
            } else {
                release(msg);
            }
        } else if (!pipelined.isEmpty() || (current != null && requestEnded)) {
            // Pipelining: the next request waits until this response is written.
            pipelined.add(msg);
            if (pipelined.size() >= MAX_PIPELINED) {
                readRequest(false);
            }
        } else {
            dispatch(msg);
        }
    }

    private void dispatch(Object msg) {
        if (current != null) {
            if (msg instanceof HttpContent content) {
                if (content instanceof LastHttpContent) {
                    requestEnded = true;
                }
                current.onRequestContent(content);
            } else {
                release(msg);
            }
        } else if (msg instanceof HttpRequest req) {
            timer.headReceived();
            protocol = req.protocolVersion().equals(HttpVersion.HTTP_1_0) ? DownstreamProtocol.HTTP_1_0
                    : DownstreamProtocol.HTTP_1_1;
            keepAlive = HttpUtil.isKeepAlive(req);
            headRequest = HttpMethod.HEAD.equals(req.method());
            connectRequest = HttpMethod.CONNECT.equals(req.method());
            requestEnded = req instanceof LastHttpContent;
            lastWrite = null;
            startExchange(req);
        } else {
            release(msg); // the rest of a body we already answered and gave up on
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == DRAIN_EVENT) {
            // Idle connections close now; busy ones (and pipelined requests about to start) send
            // Connection: close with their response.
            if (current == null && pipelined.isEmpty()) {
                closing = true;
                ctx.close();
            }
            return;
        }
        if (evt instanceof ChannelInputShutdownEvent && tunnel && current != null) {
            current.onRequestContent(LastHttpContent.EMPTY_LAST_CONTENT); // the client ended its side
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        super.channelInactive(ctx);
        Object m;
        while ((m = pipelined.poll()) != null) {
            release(m);
        }
    }

    @Override
    public boolean bodyFollows(HttpRequest head, long declaredLength) {
        return !(head instanceof LastHttpContent)
                && (declaredLength > 0 || HttpUtil.isTransferEncodingChunked(head));
    }

    // ---- responses out -----------------------------------------------------------------------------

    @Override
    void frameHead(HttpResponse res, boolean whole) {
        advertiseHttp3(res);
        HttpHeaders h = res.headers();
        if (!keepAlive || isDraining()) {
            closeAfterResponse = true;
        }
        int status = res.status().code();
        if (status == 101 || (connectRequest && status / 100 == 2)) {
            return; // a tunnel follows: no body framing; a 101 keeps the endpoint's Connection: upgrade
        }
        if (closeAfterResponse) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (protocol == DownstreamProtocol.HTTP_1_0) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        if (!whole && !h.contains(HttpHeaderNames.CONTENT_LENGTH) && mayHaveBody(res.status().code())) {
            if (protocol == DownstreamProtocol.HTTP_1_0) {
                closeAfterResponse = true; // no chunked in 1.0: the close ends the body
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            } else {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
        }
    }

    private boolean mayHaveBody(int code) {
        return !headRequest && code >= 200 && code != 204 && code != 304;
    }

    @Override
    public void writeBody(HttpContent content) {
        if (tunnel) {
            write(content.content());
        } else {
            super.writeBody(content);
        }
    }

    @Override
    public void writeHead(HttpResponse head) {
        frameHead(head, false);
        if (tunnel || heldHead != null || head.status().code() == 101 || connectRequest) {
            write(head);
        } else {
            heldHead = head;
        }
    }

    @Override
    void write(Object msg) {
        writeHeldHead();
        unflushed = true;
        super.write(msg);
    }

    private void writeHeldHead() {
        HttpResponse head = heldHead;
        if (head != null) {
            heldHead = null;
            unflushed = true;
            super.write(head);
        }
    }

    @Override
    public void writeTunnelBytes(ByteBuf bytes) {
        if (!tunnel) {
            super.writeTunnelBytes(bytes);
        } else if (!DirectSend.write(ctx.channel(), ctx, directSocket, bytes)) {
            unflushed = true; // (some of) it waits in the outbound buffer for the flush
        }
    }

    @Override
    public void flush() {
        writeHeldHead();
        if (tunnel && directSocket != null && DirectSend.nothingWaits(ctx.channel())) {
            unflushed = false;
            return; // the tunnel's bytes went out as they came: no walk down the pipeline per message
        }
        if (unflushed) {
            unflushed = false;
            ctx.flush();
        }
    }

    @Override
    public void writeLast(LastHttpContent last) {
        if (!tunnel) {
            // No future to keep: h1 never waits for the last write (h2/h3 stop an unfinished request after
            // it). A failed write reaches exceptionCaught, like every other response write.
            HttpResponse head = heldHead;
            heldHead = null;
            unflushed = false;
            if (head != null && last.trailingHeaders().isEmpty()) {
                ctx.writeAndFlush(new DefaultFullHttpResponse(head.protocolVersion(), head.status(), last.content(),
                        head.headers(), EmptyHttpHeaders.INSTANCE), ctx.voidPromise());
                return;
            }
            if (head != null) {
                super.write(head);
            }
            ctx.writeAndFlush(last, ctx.voidPromise());
            return;
        }
        ByteBuf bytes = last.content();
        if (bytes.isReadable()) {
            // The write owns the bytes now: it may have consumed and released them before it returns
            // (SslHandler wraps at the flush), so they are not looked at again.
            lastWrite = ctx.writeAndFlush(bytes);
        } else {
            bytes.release();
            lastWrite = ctx.writeAndFlush(Unpooled.EMPTY_BUFFER);
        }
        if (ctx.channel() instanceof SocketChannel socket) {
            lastWrite.addListener(f -> socket.shutdownOutput()); // the endpoint ended its side of the tunnel
        }
    }


    @Override
    public void enterTunnel() {
        writeHeldHead(); // (never held for a tunnel's head; before the codec leaves in any case)
        tunnel = true;
        closeAfterResponse = true; // when the tunnel ends, so does the connection
        // From here on bytes, not HTTP: the codec, the head scanner and the head timers leave.
        var p = ctx.pipeline();
        for (String name : p.names()) {
            ChannelHandler h = p.get(name);
            if (h instanceof HttpServerCodec || h instanceof Framing) {
                p.remove(h);
            }
        }
        if (ctx.channel() instanceof SocketChannel socket) {
            socket.config().setAllowHalfClosure(true);
        }
        directSocket = DirectSend.socketFor(ctx.channel(), ctx);
        if (directSocket != null) {
            TunnelReadBuffer.install(ctx.channel()); // reads into the loop's reused buffer
        }
    }

    @Override
    public void exchangeFinished(boolean requestComplete) {
        if (current == null) {
            return;
        }
        current = null;
        if (closeAfterResponse || isDraining()) {
            // Draining: a response that started before the drain could not say Connection: close; the
            // connection ends after it anyway, so the drain does not wait for the keep-alive timeout.
            closing = true;
            ChannelFuture sent = ctx.writeAndFlush(Unpooled.EMPTY_BUFFER);
            sent.addListener(requestComplete || tunnel ? ChannelFutureListener.CLOSE : f -> lingeringClose());
            return;
        }
        if (pipelined.isEmpty()) {
            awaitRequest();
        } else {
            // Not inside this call: it may come from the upstream channel's read (the response's last part),
            // and the next exchange should start from the downstream side, in a task of its own.
            ctx.executor().execute(this::dispatchPipelined);
        }
    }

    private void dispatchPipelined() {
        Object m;
        while (current == null && !closing && (m = pipelined.poll()) != null) {
            dispatch(m);
            while (current != null && !requestEnded && (m = pipelined.poll()) != null) {
                dispatch(m); // the rest of this request's body
            }
        }
        if (closing) {
            return;
        }
        if (current == null) {
            awaitRequest();
        } else {
            current.onReadComplete(); // reads resume as the exchange's backpressure allows
        }
    }

    /**
     * The client may still be sending a body we refused (e.g. 413): closing now, with its bytes unread, makes
     * the kernel send RST, which can destroy our response before the client reads it. Like nginx's lingering
     * close: half-close, read and discard for a while, then close.
     */
    private void lingeringClose() {
        if (!(ctx.channel() instanceof SocketChannel socket) || !socket.isActive()) {
            ctx.close();
            return;
        }
        HalfClose.afterWrites(ctx, socket); // after the response, which may still be on its way to the socket
        socket.config().setAutoRead(true);
        ctx.executor().schedule(() -> {
            ctx.close();
        }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void abort() {
        heldHead = null; // as an unflushed write, dropped by the close
        closing = true;
        ctx.close();
    }

    @Override
    public void connectionDraining() {
        // Connection: close went with the 503 (closeAfterResponse): nothing more to say on h1.
    }
}
