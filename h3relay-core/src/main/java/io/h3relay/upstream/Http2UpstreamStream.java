package io.h3relay.upstream;

import io.h3relay.websocket.WebSocketUpgrade;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.concurrent.GenericFutureListener;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * One stream of a shared HTTP/2 connection ({@link Http2UpstreamConnection}) as an {@link UpstreamStream}:
 * a child channel of Netty's multiplexer whose pipeline is this handler alone (response frames are turned
 * into the same {@code HttpObject}s an h1 connection produces here, see {@link io.h3relay.transport.Http2Frames#toHttpObject}). Requests are written
 * as frames directly: the head becomes one HEADERS frame built here ({@code :authority} from Host, hop-by-hop
 * headers left out, {@code te: trailers} kept), body parts DATA frames, trailers a closing HEADERS frame.
 *
 * <p>Flow control is the child channel's: it is unwritable while the stream's send window (or the
 * connection's buffer) is exhausted, which is what {@link #isWritable()} reports; with auto-read off
 * ({@link #readResponse(boolean)}) DATA stays unread in the child channel and the endpoint's stream window
 * is not replenished, so a slow client holds back exactly this stream and no other.
 *
 * <p>Failures: RST_STREAM REFUSED_STREAM, or a GOAWAY whose last stream id is below ours, mean the endpoint
 * processed nothing ({@link UpstreamFailure.Kind#REFUSED}); any other end before the response completed is
 * a {@link UpstreamFailure.Kind#RESET}. On the connection's event loop only.
 */
final class Http2UpstreamStream extends MultiplexedStream implements GenericFutureListener<Future<? super Void>> {
    private static final Logger LOG = LoggerFactory.getLogger(Http2UpstreamStream.class);
    private static final AsciiString HTTPS = AsciiString.cached("https");
    private static final AsciiString HTTP = AsciiString.cached("http");

    private final Http2UpstreamConnection conn;
    private Http2StreamChannel channel;
    private boolean refused;
    private String resetBy;
    /**
     * The request is a WebSocket Upgrade sent as an extended CONNECT (RFC 8441); {@code wsKey} is the
     * Sec-WebSocket-Key it carried (the 2xx answer becomes a 101 accepting it), {@code tunnel} set once it
     * was accepted.
     */
    private boolean webSocket;
    private String wsKey;
    private boolean tunnel;

    Http2UpstreamStream(Http2UpstreamConnection connection) {
        super(connection);
        this.conn = connection;
    }

    /**
     * A child channel of the connection's multiplexer, this stream its only handler: no initializer per stream
     * (a {@code ChannelInitializer} is an object with its own {@code ConcurrentHashMap}, added to the pipeline
     * and removed again) and no frame-to-HttpObject codec (the frames are converted in {@link #channelRead}).
     */
    @Override
    Future<Http2StreamChannel> open() {
        return conn.openStream(this);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = (Http2StreamChannel) ctx.channel();
        channel.closeFuture().addListener(this);
    }

    /** The stream's channel closed: its slot on the connection is free. */
    @Override
    public void operationComplete(Future<? super Void> future) {
        conn.streamClosed();
    }

    @Override
    Http2StreamChannel channel() {
        return channel;
    }

    @Override
    public void writeHead(HttpRequest head, boolean hasBody) {
        Http2Headers h2 = toHttp2(head, conn.pool().tls());
        if (WebSocketUpgrade.isUpstreamUpgrade(head)) {
            writeExtendedConnect(head, h2);
            return;
        }
        requestEnded = !hasBody;
        channel.write(new DefaultHttp2HeadersFrame(h2, !hasBody), channel.voidPromise());
    }

    /**
     * A WebSocket Upgrade becomes an extended CONNECT (RFC 8441 section 4): {@code :method CONNECT},
     * {@code :protocol websocket}, {@code :scheme}/{@code :path}/{@code :authority} as for any request, no
     * {@code Sec-WebSocket-Key} (section 5), and the stream stays open. Only where the endpoint advertised
     * SETTINGS_ENABLE_CONNECT_PROTOCOL; otherwise the attempt fails with a bad-gateway answer saying so.
     */
    private void writeExtendedConnect(HttpRequest head, Http2Headers h2) {
        webSocket = true;
        requestEnded = true; // until the tunnel: the h1 request's own (empty) end is not the stream's
        if (!conn.acceptsExtendedConnect()) {
            channel.eventLoop().execute(() -> {
                Listener l = listener;
                listener = null;
                if (l != null) {
                    l.onFailed(new UpstreamFailure(UpstreamFailure.Kind.INVALID_RESPONSE, "endpoint " + endpoint()
                            + " speaks HTTP/2 without SETTINGS_ENABLE_CONNECT_PROTOCOL: it cannot take a WebSocket"
                            + " (RFC 8441 extended CONNECT)", null));
                }
            });
            return;
        }
        wsKey = head.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY);
        h2.remove(HttpHeaderNames.SEC_WEBSOCKET_KEY);
        h2.method(HttpMethod.CONNECT.asciiName());
        h2.set(Http2Headers.PseudoHeaderName.PROTOCOL.value(), HttpHeaderValues.WEBSOCKET);
        channel.write(new DefaultHttp2HeadersFrame(h2, false), channel.voidPromise());
    }

    /** The request head as HTTP/2 fields (see {@link MultiplexedStream#requestFields}). */
    static Http2Headers toHttp2(HttpRequest head, boolean tls) {
        return requestFields(head, tls ? HTTPS : HTTP, new DefaultHttp2Headers(false, head.headers().size() + 4));
    }

    @Override
    public void writeBody(HttpContent content) {
        if (webSocket && !tunnel) {
            content.release(); // an h1 client's Upgrade request ends before the tunnel: not the stream's end
            return;
        }
        if (requestEnded) {
            content.release(); // the head went out with END_STREAM (no body), or the body already ended
            return;
        }
        ByteBuf bytes = content.content();
        if (!(content instanceof LastHttpContent last)) {
            channel.write(new DefaultHttp2DataFrame(bytes, false), channel.voidPromise());
            return;
        }
        requestEnded = true;
        HttpHeaders trailers = last.trailingHeaders();
        if (trailers.isEmpty()) {
            channel.write(new DefaultHttp2DataFrame(bytes, true), channel.voidPromise());
            return;
        }
        if (bytes.isReadable()) {
            channel.write(new DefaultHttp2DataFrame(bytes, false), channel.voidPromise());
        } else {
            bytes.release();
        }
        Http2Headers h2 = trailerFields(trailers, new DefaultHttp2Headers(false, trailers.size()));
        channel.write(new DefaultHttp2HeadersFrame(h2, true), channel.voidPromise());
    }

    @Override
    public void flush() {
        channel.flush();
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable();
    }

    @Override
    public String viaVersion() {
        return "2";
    }

    /** A stream that has not ended both ways is reset (RST_STREAM CANCEL). */
    @Override
    void ended(String resetReason) {
        if (!channel.config().isAutoRead()) {
            channel.config().setAutoRead(true);
        }
        if (resetReason != null && channel.isActive()) {
            channel.close(); // the child channel sends RST_STREAM CANCEL for a stream still open
        }
    }

    @Override
    public void enterTunnel() {
        if (!webSocket) {
            // The forwarding opens tunnels only on a 101 (which only a WebSocket's extended CONNECT makes
            // here) or a 2xx to a plain CONNECT, which is not forwarded to HTTP/2 endpoints.
            throw new UnsupportedOperationException("a tunnel over an HTTP/2 stream that is not a WebSocket");
        }
        // DATA frames carry the WebSocket's bytes both ways from now on; END_STREAM ends a side.
        tunnel = true;
        requestEnded = false;
    }

    // ---- inbound ------------------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2StreamFrame frame) {
            HttpObject http;
            try {
                http = io.h3relay.transport.Http2Frames.toHttpObject(frame, channel.alloc(), false);
            } catch (Exception e) {
                ReferenceCountUtil.release(msg);
                exceptionCaught(ctx, new DecoderException(e));
                return;
            }
            if (http == null) {
                ReferenceCountUtil.release(msg);
                return;
            }
            msg = http;
        }
        Listener l = listener;
        if (l == null || !(msg instanceof HttpObject http)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (http instanceof HttpResponse res) {
            responseSeen = true;
            if (webSocket && !tunnel && res.status().codeClass() == HttpStatusClass.SUCCESS
                    && !(http instanceof LastHttpContent)) {
                // RFC 8441: a 2xx accepts the WebSocket. The proxy sees the 101 an h1 endpoint would send.
                DefaultFullHttpResponse switching = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        res.status(), Unpooled.EMPTY_BUFFER, res.headers(), EmptyHttpHeaders.INSTANCE);
                WebSocketUpgrade.asSwitchingProtocols(switching, wsKey);
                http = switching;
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
        if (l != null) {
            l.onReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Listener l = listener;
        if (l != null) {
            l.onWritabilityChanged(ctx.channel().isWritable());
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame reset) {
            Http2Error e = Http2Error.valueOf(reset.errorCode());
            refused = reset.errorCode() == Http2Error.REFUSED_STREAM.code();
            resetBy = "reset the stream (" + (e == null ? "0x" + Long.toHexString(reset.errorCode()) : e.name()) + ")";
        } else if (evt instanceof Http2GoAwayFrame goAway) {
            // Sent only to streams above the GOAWAY's last stream id: the endpoint never processed this one.
            refused = true;
            resetBy = "went away (GOAWAY) before processing the stream";
        }
        ReferenceCountUtil.release(evt);
    }

    /** RST_STREAM REFUSED_STREAM, or a GOAWAY below this stream. */
    @Override
    boolean refusedByEndpoint() {
        return refused;
    }

    @Override
    String whyClosed(boolean refused) {
        return resetBy != null ? resetBy : conn.channel().isActive() ? "closed the stream" : "closed the connection";
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("upstream stream {} failed", channel, cause);
        if (resetBy == null) {
            invalid = true;
            resetBy = "sent an invalid response (" + cause.getMessage() + ")";
        }
        ctx.close();
    }
}
