package io.h3relay.upstream;

import io.h3relay.quic.Http3StreamWriteCoalescer;
import io.h3relay.quic.StreamsClosedBeforeFin;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3Headers;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.http3.Http3FrameToHttpObjectCodec;
import io.netty.handler.codec.http3.Http3Headers;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamResetException;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * One HTTP/3 request stream of a shared QUIC connection ({@link Http3UpstreamConnection}) as an
 * {@link UpstreamStream}. Responses are decoded by Netty's frame-to-HttpObject adapter (the same
 * {@code HttpObject}s an h1 or h2 stream produces; trailers as the last part's trailing headers); a response
 * head followed in the same read burst by the end of the stream, or a head with {@code grpc-status} (gRPC's
 * trailers-only form) followed by it at all, becomes one {@code FullHttpResponse}, as on h2 (a gRPC
 * trailers-only answer must reach an h2/h3 client as one HEADERS frame). Requests are written as
 * frames directly, past the adapter: the head one HEADERS frame ({@code :authority} from Host, hop-by-hop
 * headers out, {@code te: trailers} kept), body parts DATA frames, trailers a closing HEADERS frame. What a
 * flush sends leaves as one buffer ({@link Http3StreamWriteCoalescer}, next to the stream), and the FIN rides on
 * the request's last bytes: the head of a bodiless request, the last DATA frame (an empty one when the body ended
 * after its bytes had left) or the trailers. A FIN sent alone, after Netty had already handed the bytes before it
 * to quiche (Netty's stream sends at every write), is a STREAM frame without bytes, and quiche (Netty 4.2.18's)
 * never sends that frame again when its packet is lost once those bytes are acknowledged: the endpoint would
 * wait for the end of the request until a timeout (docs/protocols.md, "The FIN rides on bytes").
 *
 * <p>Flow control: the stream channel is unwritable while QUIC's stream or connection credit is used up;
 * writability is confirmed with {@code bytesBeforeUnwritable()} (netty#17429: a stream may report writable
 * with no capacity yet) and looked at again shortly when it is not there yet. With auto-read off the
 * response stays in quiche and the endpoint's stream window is not extended: a slow client holds back this
 * stream only.
 *
 * <p>Failures: a RESET_STREAM with H3_REQUEST_REJECTED before any response, or a stream at or above a GOAWAY's
 * id, mean the endpoint processed nothing ({@link UpstreamFailure.Kind#REFUSED}); any other end before the
 * response completed is a {@link UpstreamFailure.Kind#RESET}. On the connection's event loop only.
 */
final class Http3UpstreamStream extends MultiplexedStream {
    private static final Logger LOG = LoggerFactory.getLogger(Http3UpstreamStream.class);
    private static final AsciiString HTTPS = AsciiString.cached("https");
    private static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");

    private final Http3UpstreamConnection conn;
    private QuicStreamChannel channel;
    private ChannelHandlerContext frames;
    private Http3StreamWriteCoalescer coalescer;
    private HttpResponse held;
    private long resetCode = -1;
    private String failure;
    private boolean recheckScheduled;
    /** The endpoint's FIN was read: Netty lets go of the stream when it closes. */
    private boolean finRead;

    Http3UpstreamStream(Http3UpstreamConnection connection) {
        super(connection);
        this.conn = connection;
    }

    /** A request stream of the connection. */
    @Override
    Future<QuicStreamChannel> open() {
        return Http3.newRequestStream(conn.channel(), initializer());
    }

    private ChannelInitializer<QuicStreamChannel> initializer() {
        Http3UpstreamStream self = this;
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(QuicStreamChannel ch) {
                channel = ch;
                ch.config().setWriteBufferWaterMark(UpstreamConnector.WATER_MARK);
                // Next to the stream: what a flush sends is one buffer, and the request's FIN rides on its last
                // bytes (see the class comment)
                coalescer = new Http3StreamWriteCoalescer(false);
                ch.pipeline().addFirst("h3-write-coalesce", coalescer);
                ch.pipeline().addLast("h3-reset", new ResetWatcher());
                ch.pipeline().addLast("h3-to-http", new Http3FrameToHttpObjectCodec(false, true));
                ch.pipeline().addLast("upstream", self);
                frames = ch.pipeline().context("h3-to-http");
                ch.closeFuture().addListener(f -> {
                    if (!finRead) {
                        conn.streamClosedBeforeFin(); // Netty keeps such a stream until the connection closes
                    }
                    conn.streamClosed();
                });
            }
        };
    }

    @Override
    QuicStreamChannel channel() {
        return channel;
    }

    @Override
    public void writeHead(HttpRequest head, boolean hasBody) {
        Http3Headers h3 = toHttp3(head);
        requestEnded = !hasBody;
        if (hasBody) {
            frames.write(new DefaultHttp3HeadersFrame(h3)).addListener(this::failOnWriteError);
        } else {
            writeLast(new DefaultHttp3HeadersFrame(h3));
        }
    }

    /** The request head as HTTP/3 fields (see {@link MultiplexedStream#requestFields}). */
    static Http3Headers toHttp3(HttpRequest head) {
        return requestFields(head, HTTPS, new DefaultHttp3Headers(false, head.headers().size() + 4));
    }

    @Override
    public void writeBody(HttpContent content) {
        if (requestEnded || channel == null) {
            content.release();
            return;
        }
        ByteBuf bytes = content.content();
        if (!(content instanceof LastHttpContent last)) {
            if (bytes.isReadable()) {
                frames.write(new DefaultHttp3DataFrame(bytes)).addListener(this::failOnWriteError);
            } else {
                bytes.release();
            }
            return;
        }
        requestEnded = true;
        HttpHeaders trailers = last.trailingHeaders();
        if (trailers.isEmpty()) {
            // An empty DATA frame when the body ended without bytes: bytes for the FIN to ride on (RFC 9114
            // allows empty DATA frames)
            writeLast(new DefaultHttp3DataFrame(bytes));
            return;
        }
        if (bytes.isReadable()) {
            frames.write(new DefaultHttp3DataFrame(bytes)).addListener(this::failOnWriteError);
        } else {
            bytes.release();
        }
        Http3Headers h3 = trailerFields(trailers, new DefaultHttp3Headers(false, trailers.size()));
        writeLast(new DefaultHttp3HeadersFrame(h3));
    }

    /** The request's last frame: the coalescer sends the stream's FIN with its bytes at the next flush. */
    private void writeLast(Object frame) {
        ChannelPromise last = channel.newPromise();
        last.addListener(this::failOnWriteError);
        frames.write(frame, last);
        coalescer.endStreamWith(last);
    }

    private void failOnWriteError(io.netty.util.concurrent.Future<? super Void> f) {
        if (!f.isSuccess() && !done) {
            LOG.debug("write to upstream stream {} failed", channel, f.cause());
            if (failure == null && resetCode < 0) {
                // (A write failing after the endpoint's RESET_STREAM closed the stream is that reset's doing:
                // whyClosed names the reset, e.g. a refusal, not the closed channel.)
                failure = "stopped the stream (" + f.cause().getMessage() + ")";
            }
            channel.close();
        }
    }

    @Override
    public void flush() {
        if (channel != null) {
            channel.flush();
        }
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable() && channel.bytesBeforeUnwritable() > 0;
    }

    @Override
    public String viaVersion() {
        return "3";
    }

    /** A stream that has not ended both ways is cancelled (H3_REQUEST_CANCELLED). */
    @Override
    void ended(String resetReason) {
        if (held != null) {
            ReferenceCountUtil.release(held);
            held = null;
        }
        if (channel == null) {
            return;
        }
        if (!channel.config().isAutoRead()) {
            channel.config().setAutoRead(true);
        }
        if (resetReason != null && channel.isActive()) {
            channel.shutdown(Http3ErrorCode.H3_REQUEST_CANCELLED.code()).addListener(f -> channel.close());
        } else if (channel.isActive()) {
            channel.close();
        }
    }

    @Override
    public void enterTunnel() {
        // Unreachable: tunnels open only on a 101 or a 2xx to CONNECT; extended CONNECT is not offered upstream.
        throw new UnsupportedOperationException("tunnels over an HTTP/3 upstream stream");
    }

    // ---- inbound ------------------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Listener l = listener;
        if (l == null || !(msg instanceof HttpObject http)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (http instanceof HttpResponse res && !(http instanceof LastHttpContent)) {
            responseSeen = true;
            if (res.status().code() >= 200) {
                held = res; // a FIN in the same burst makes it a whole response
                return;
            }
        }
        if (held != null) {
            HttpResponse head = held;
            held = null;
            if (http instanceof LastHttpContent last && !last.content().isReadable() && last.trailingHeaders().isEmpty()) {
                last.release();
                responseEnded = true;
                head.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
                l.onResponse(new DefaultFullHttpResponse(head.protocolVersion(), head.status(), Unpooled.EMPTY_BUFFER,
                        head.headers(), EmptyHttpHeaders.INSTANCE));
                return;
            }
            l.onResponse(head);
            if (listener == null) {
                ReferenceCountUtil.release(http);
                return;
            }
        }
        if (http instanceof LastHttpContent) {
            responseEnded = true;
        }
        l.onResponse(http);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Listener l = listener;
        if (l != null && held != null) {
            if (held.headers().contains(GRPC_STATUS)) {
                // A gRPC trailers-only response (grpc-status in the head): its FIN may come in a later
                // packet; wait for it, so the head goes on as a whole response.
                if (!ctx.channel().config().isAutoRead()) {
                    ctx.read();
                }
                return;
            }
            HttpResponse head = held;
            held = null;
            l.onResponse(head);
        }
        l = listener;
        if (l != null) {
            l.onReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Listener l = listener;
        if (l == null) {
            return;
        }
        if (!channel.isWritable()) {
            l.onWritabilityChanged(false);
        } else if (channel.bytesBeforeUnwritable() > 0) {
            l.onWritabilityChanged(true);
        } else if (!recheckScheduled) {
            recheckScheduled = true;
            ctx.executor().schedule(() -> {
                recheckScheduled = false;
                channelWritabilityChanged(ctx);
            }, 1, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (held != null) {
            ReferenceCountUtil.release(held);
            held = null;
        }
        super.channelInactive(ctx);
    }

    /** RESET_STREAM with H3_REQUEST_REJECTED, or a stream at or above the endpoint's GOAWAY id. */
    @Override
    boolean refusedByEndpoint() {
        return resetCode == Http3ErrorCode.H3_REQUEST_REJECTED.code() || conn.refusedByGoAway(channel.streamId());
    }

    @Override
    String whyClosed(boolean refused) {
        return failure != null ? failure
                : refused ? "refused the stream (H3_REQUEST_REJECTED or GOAWAY)"
                : resetCode >= 0 ? "reset the stream (code 0x" + Long.toHexString(resetCode) + ")"
                : conn.channel().isActive() ? "closed the stream" : "closed the QUIC connection";
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("upstream stream {} failed", channel, cause);
        if (failure == null && resetCode < 0) {
            invalid = true;
            failure = "sent an invalid response (" + cause.getMessage() + ")";
        }
        ctx.close();
    }

    /**
     * Before Netty's adapter (which logs QUIC exceptions and drops them): remembers the code of the endpoint's
     * RESET_STREAM and closes the stream, so that {@link #channelInactive} can tell a refusal from a reset.
     */
    private final class ResetWatcher extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            finRead |= StreamsClosedBeforeFin.isFin(evt);
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof QuicStreamResetException reset) {
                resetCode = reset.applicationProtocolCode();
                ctx.close();
                return;
            }
            ctx.fireExceptionCaught(cause);
        }
    }
}
