package io.h3relay.client.h1;

import io.h3relay.client.Cancellable;
import io.h3relay.client.ClientConnection;
import io.h3relay.client.ConnectionInfo;
import io.h3relay.client.ErrorKind;
import io.h3relay.client.Protocol;
import io.h3relay.client.RequestFailure;
import io.h3relay.client.RequestSpec;
import io.h3relay.client.ResponseListener;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An HTTP/1.1 connection: one request at a time (no pipelining), kept alive between requests unless
 * the response says {@code Connection: close}. The request goes out as the bytes {@link RequestSpec}
 * encoded once; Netty's decoder parses the response.
 */
public final class Http1Connection extends ChannelInboundHandlerAdapter implements ClientConnection {
    private final Channel channel;
    private final ConnectionInfo info;
    private ResponseListener current;
    private boolean currentIsHead;
    private boolean interim;       // inside a 1xx response, which is skipped
    private boolean keepAlive = true;
    private boolean failed;

    private Http1Connection(Channel channel, ConnectionInfo info) {
        this.channel = channel;
        this.info = info;
    }

    public static void install(Channel ch, ConnectionInfo info, Promise<ClientConnection> promise) {
        Http1Connection c = new Http1Connection(ch, info);
        // A client reads what it asked for: no header validation on the hot path of a load run, and
        // body chunks as large as the reads (fewer calls per 64 KiB response).
        var config = new io.netty.handler.codec.http.HttpDecoderConfig()
                .setMaxChunkSize(1 << 20)
                .setHeadersFactory(io.netty.handler.codec.http.DefaultHttpHeadersFactory.headersFactory().withValidation(false))
                .setTrailersFactory(io.netty.handler.codec.http.DefaultHttpHeadersFactory.trailersFactory().withValidation(false));
        ch.pipeline().addLast("h1-decoder", new HttpResponseDecoder(config) {
            @Override
            protected boolean isContentAlwaysEmpty(HttpMessage msg) {
                // A response to HEAD has a Content-Length but no body.
                return c.currentIsHead || super.isContentAlwaysEmpty(msg);
            }
        });
        ch.pipeline().addLast("h1-client", c);
        if (!promise.trySuccess(c)) {
            ch.close();
        }
    }

    @Override
    public Protocol protocol() {
        return Protocol.HTTP_1_1;
    }

    @Override
    public ConnectionInfo info() {
        return info;
    }

    @Override
    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    @Override
    public boolean isUsable() {
        return channel.isActive() && keepAlive && !failed;
    }

    @Override
    public int maxConcurrent() {
        return 1;
    }

    @Override
    public int inFlight() {
        return current == null ? 0 : 1;
    }

    @Override
    public Cancellable send(RequestSpec request, ResponseListener listener) {
        if (current != null || !isUsable()) {
            listener.onFailure(new RequestFailure(ErrorKind.CLOSED, "HTTP/1.1 connection " + (current != null ? "busy" : "closed")));
            return () -> { };
        }
        current = listener;
        currentIsHead = request.isHead();
        channel.write(request.http1()).addListener(f -> {
            if (!f.isSuccess()) {
                fail(RequestFailure.classify(f.cause(), ErrorKind.CLOSED));
            }
        });
        return () -> {
            // No way to abandon one h1 request but to drop the connection.
            if (current == listener) {
                fail(new RequestFailure(ErrorKind.TIMEOUT, "cancelled"));
            }
        };
    }

    @Override
    public void flush() {
        channel.flush();
    }

    @Override
    public Future<?> closeFuture() {
        return channel.closeFuture();
    }

    @Override
    public void close() {
        channel.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (current == null) {
                return; // nothing asked for: stray bytes after a response
            }
            HttpObject o = (HttpObject) msg;
            if (o.decoderResult().isFailure()) {
                Throwable cause = o.decoderResult().cause();
                // The decoder reports a close in the middle of a response as a decoding failure.
                fail(cause instanceof io.netty.handler.codec.PrematureChannelClosureException
                        ? new RequestFailure(ErrorKind.CLOSED, "connection closed before the response ended", cause)
                        : new RequestFailure(ErrorKind.PROTOCOL, "bad HTTP/1.1 response: " + cause, cause));
                return;
            }
            if (o instanceof HttpResponse r) {
                int status = r.status().code();
                interim = status >= 100 && status < 200 && status != 101;
                if (!interim) {
                    keepAlive = HttpUtil.isKeepAlive(r);
                    current.onHead(status, () -> {
                        List<Map.Entry<String, String>> all = new ArrayList<>();
                        r.headers().forEach(e -> all.add(new AbstractMap.SimpleImmutableEntry<>(e.getKey(), e.getValue())));
                        return all;
                    });
                }
            }
            if (o instanceof HttpContent c && !interim) {
                if (c.content().isReadable()) {
                    current.onData(c.content());
                }
                if (c instanceof LastHttpContent last) {
                    List<Map.Entry<String, String>> trailers = last.trailingHeaders().isEmpty() ? List.of() : new ArrayList<>();
                    last.trailingHeaders().forEach(e -> trailers.add(new AbstractMap.SimpleImmutableEntry<>(e.getKey(), e.getValue())));
                    ResponseListener l = current;
                    current = null;
                    if (!keepAlive) {
                        channel.close();
                    }
                    l.onComplete(trailers);
                }
            } else if (o instanceof LastHttpContent) {
                interim = false; // the end of a 1xx: the real response follows
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(RequestFailure.classify(cause, ErrorKind.CLOSED));
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(new RequestFailure(ErrorKind.CLOSED, "connection closed before the response ended"));
        ctx.fireChannelInactive();
    }

    private void fail(RequestFailure f) {
        failed = true;
        ResponseListener l = current;
        current = null;
        if (l != null) {
            l.onFailure(f);
        }
        channel.close();
    }
}
