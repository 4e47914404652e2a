package io.h3relay.upstream;

import io.h3relay.endpoint.Endpoint;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3Headers;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.http3.Http3FrameToHttpObjectCodec;
import io.netty.handler.codec.http3.Http3Headers;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamResetException;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP/3 request stream of a shared QUIC connection ({@link Http3UpstreamConnection}) as an
 * {@link UpstreamStream}. Responses are decoded by Netty's frame-to-HttpObject adapter (the same
 * {@code HttpObject}s an h1 or h2 stream produces; trailers as the last part's trailing headers); a response
 * head followed in the same read burst by the end of the stream, or a head with {@code grpc-status} (gRPC's
 * trailers-only form) followed by it at all, becomes one {@code FullHttpResponse}, as on h2 (a gRPC
 * trailers-only answer must reach an h2/h3 client as one HEADERS frame). Requests are written as
 * frames directly, past the adapter: the head one HEADERS frame ({@code :authority} from Host, hop-by-hop
 * headers out, {@code te: trailers} kept), body parts DATA frames, trailers a closing HEADERS frame; the FIN
 * ({@code shutdownOutput}) only once the last write completed (Netty sends the FIN at once, past queued data).
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
final class Http3UpstreamStream extends ChannelInboundHandlerAdapter implements UpstreamStream {
    private static final Logger LOG = LoggerFactory.getLogger(Http3UpstreamStream.class);
    private static final AsciiString HTTPS = AsciiString.cached("https");
    private static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");

    private final Http3UpstreamConnection connection;
    private final boolean reused;
    private QuicStreamChannel channel;
    private ChannelHandlerContext frames;
    private Listener listener;
    private boolean requestEnded;
    private boolean responseSeen;
    private boolean responseEnded;
    private HttpResponse held;
    private long resetCode = -1;
    private boolean invalid;
    private String failure;
    private boolean done;
    private boolean recheckScheduled;

    Http3UpstreamStream(Http3UpstreamConnection connection) {
        this.connection = connection;
        this.reused = connection.reused();
    }

    ChannelInitializer<QuicStreamChannel> initializer() {
        Http3UpstreamStream self = this;
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(QuicStreamChannel ch) {
                channel = ch;
                ch.config().setWriteBufferWaterMark(UpstreamConnector.WATER_MARK);
                ch.pipeline().addLast("h3-reset", new ResetWatcher());
                ch.pipeline().addLast("h3-to-http", new Http3FrameToHttpObjectCodec(false, true));
                ch.pipeline().addLast("upstream", self);
                frames = ch.pipeline().context("h3-to-http");
                ch.closeFuture().addListener(f -> connection.streamClosed());
            }
        };
    }

    QuicStreamChannel channel() {
        return channel;
    }

    @Override
    public Endpoint endpoint() {
        return connection.pool().endpoint();
    }

    @Override
    public UpstreamProtocol protocol() {
        return UpstreamProtocol.HTTP_3;
    }

    @Override
    public void start(Listener l) {
        this.listener = l;
    }

    @Override
    public void writeHead(HttpRequest head, boolean hasBody) {
        Http3Headers h3 = toHttp3(head);
        requestEnded = !hasBody;
        ChannelFuture f = frames.write(new DefaultHttp3HeadersFrame(h3));
        if (!hasBody) {
            f.addListener(this::shutdownOutputWhenWritten);
        } else {
            f.addListener(this::failOnWriteError);
        }
    }

    /** The request head as HTTP/3 fields: pseudo-headers first, names lower-cased, connection headers out. */
    static Http3Headers toHttp3(HttpRequest head) {
        HttpHeaders in = head.headers();
        Http3Headers out = new DefaultHttp3Headers(false, in.size() + 4);
        out.method(head.method().asciiName());
        out.scheme(HTTPS);
        String uri = head.uri();
        String authority = in.get(HttpHeaderNames.HOST);
        int scheme = uri.indexOf("://");
        if (scheme > 0 && uri.charAt(0) != '/') {
            int pathStart = uri.indexOf('/', scheme + 3);
            authority = uri.substring(scheme + 3, pathStart < 0 ? uri.length() : pathStart);
            uri = pathStart < 0 ? "/" : uri.substring(pathStart);
        }
        out.path(uri);
        if (authority != null) {
            out.authority(authority);
        }
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = in.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            AsciiString name = AsciiString.of(e.getKey()).toLowerCase();
            if (name.contentEquals(HttpHeaderNames.HOST) || name.contentEquals(HttpHeaderNames.CONNECTION)
                    || name.contentEquals(HttpHeaderNames.TRANSFER_ENCODING)
                    || name.contentEquals(HttpHeaderNames.KEEP_ALIVE) || name.contentEquals(HttpHeaderNames.UPGRADE)
                    || name.contentEquals(HttpHeaderNames.PROXY_CONNECTION)) {
                continue;
            }
            if (name.contentEquals(HttpHeaderNames.TE)
                    && !HttpHeaderValues.TRAILERS.contentEqualsIgnoreCase(AsciiString.of(e.getValue()).trim())) {
                continue; // like HTTP/2, HTTP/3 allows only "te: trailers" (RFC 9114 §4.2)
            }
            out.add(name, e.getValue());
        }
        return out;
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
        ChannelFuture lastWrite;
        if (trailers.isEmpty()) {
            // An empty DATA frame when the body ended without bytes: a write to hang the FIN on (RFC 9114
            // allows empty DATA frames).
            lastWrite = frames.write(new DefaultHttp3DataFrame(bytes));
        } else {
            if (bytes.isReadable()) {
                frames.write(new DefaultHttp3DataFrame(bytes)).addListener(this::failOnWriteError);
            } else {
                bytes.release();
            }
            Http3Headers h3 = new DefaultHttp3Headers(false, trailers.size());
            for (Iterator<Map.Entry<CharSequence, CharSequence>> it = trailers.iteratorCharSequence(); it.hasNext(); ) {
                Map.Entry<CharSequence, CharSequence> e = it.next();
                h3.add(AsciiString.of(e.getKey()).toLowerCase(), e.getValue());
            }
            lastWrite = frames.write(new DefaultHttp3HeadersFrame(h3));
        }
        lastWrite.addListener(this::shutdownOutputWhenWritten);
    }

    private void shutdownOutputWhenWritten(io.netty.util.concurrent.Future<? super Void> f) {
        if (f.isSuccess()) {
            if (channel.isActive() && !channel.isOutputShutdown()) {
                channel.shutdownOutput();
            }
        } else {
            failOnWriteError(f);
        }
    }

    private void failOnWriteError(io.netty.util.concurrent.Future<? super Void> f) {
        if (!f.isSuccess() && !done) {
            LOG.debug("write to upstream stream {} failed", channel, f.cause());
            if (failure == null) {
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
    public void readResponse(boolean on) {
        if (!done) {
            channel.config().setAutoRead(on);
        }
    }

    @Override
    public boolean isReused() {
        return reused;
    }

    @Override
    public String viaVersion() {
        return "3";
    }

    @Override
    public void finish(boolean clean) {
        end(clean && requestEnded && responseEnded ? null : "exchange finished");
    }

    @Override
    public void abort(String reason) {
        LOG.debug("upstream stream {} aborted: {}", channel, reason);
        end(reason);
    }

    /** Unbinds the listener; a stream that has not ended both ways is cancelled (H3_REQUEST_CANCELLED). */
    private void end(String resetReason) {
        if (done) {
            return;
        }
        done = true;
        listener = null;
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
        Listener l = listener;
        listener = null;
        if (held != null) {
            ReferenceCountUtil.release(held);
            held = null;
        }
        if (l != null && !responseEnded) {
            boolean rejected = resetCode == Http3ErrorCode.H3_REQUEST_REJECTED.code()
                    || connection.refusedByGoAway(channel.streamId());
            String why = failure != null ? failure
                    : rejected ? "refused the stream (H3_REQUEST_REJECTED or GOAWAY)"
                    : resetCode >= 0 ? "reset the stream (code 0x" + Long.toHexString(resetCode) + ")"
                    : connection.channel().isActive() ? "closed the stream" : "closed the QUIC connection";
            UpstreamFailure.Kind kind = rejected && !responseSeen ? UpstreamFailure.Kind.REFUSED
                    : invalid ? UpstreamFailure.Kind.INVALID_RESPONSE : UpstreamFailure.Kind.RESET;
            l.onFailed(new UpstreamFailure(kind, "endpoint " + endpoint() + " " + why
                    + " before the response completed", null));
        }
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
