package io.h3relay.client.h2;

import io.h3relay.client.Cancellable;
import io.h3relay.client.ClientConnection;
import io.h3relay.client.ConnectionInfo;
import io.h3relay.client.ErrorKind;
import io.h3relay.client.Protocol;
import io.h3relay.client.RequestFailure;
import io.h3relay.client.RequestSpec;
import io.h3relay.client.ResponseListener;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2EventAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An HTTP/2 connection (TLS with ALPN h2, or h2c by prior knowledge), on Netty's connection handler
 * with a frame listener: no child channel per stream, so a stream costs a map entry, not a pipeline.
 * The connection counts as open once the peer's SETTINGS arrived (its stream limit is known then).
 */
public final class Http2Connection extends Http2EventAdapter implements ClientConnection {
    private static final int STREAM_WINDOW = 1 << 20;
    private static final int CONNECTION_WINDOW = 32 << 20;

    private final Channel channel;
    private final ConnectionInfo info;
    private final Promise<ClientConnection> opened;
    private final IntObjectHashMap<Pending> pending = new IntObjectHashMap<>();
    private Http2ConnectionHandler handler;
    private ChannelHandlerContext ctx;
    private boolean goAway;

    private static final class Pending {
        final ResponseListener listener;
        boolean head;

        Pending(ResponseListener listener) {
            this.listener = listener;
        }
    }

    private Http2Connection(Channel channel, ConnectionInfo info, Promise<ClientConnection> opened) {
        this.channel = channel;
        this.info = info;
        this.opened = opened;
    }

    public static void install(Channel ch, ConnectionInfo info, Promise<ClientConnection> promise) {
        Http2Connection c = new Http2Connection(ch, info, promise);
        c.handler = new Http2ConnectionHandlerBuilder()
                .server(false)
                .frameListener(c)
                .initialSettings(Http2Settings.defaultSettings().pushEnabled(false).initialWindowSize(STREAM_WINDOW))
                .build();
        c.handler.connection().addListener(c);
        ch.pipeline().addLast("h2-client", c.handler);
        c.ctx = ch.pipeline().context(c.handler);
        ch.closeFuture().addListener(f -> promise.tryFailure(
                new RequestFailure(ErrorKind.CLOSED, "connection closed before HTTP/2 SETTINGS arrived")));
    }

    @Override
    public Protocol protocol() {
        return Protocol.HTTP_2;
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
        return channel.isActive() && !goAway;
    }

    @Override
    public int maxConcurrent() {
        return handler.connection().local().maxActiveStreams();
    }

    @Override
    public int inFlight() {
        return pending.size();
    }

    @Override
    public Cancellable send(RequestSpec request, ResponseListener listener) {
        if (!isUsable()) {
            listener.onFailure(new RequestFailure(ErrorKind.CLOSED, "HTTP/2 connection closed or going away"));
            return () -> { };
        }
        int id = handler.connection().local().incrementAndGetNextStreamId();
        ByteBuf body = request.body();
        pending.put(id, new Pending(listener));
        handler.encoder().writeHeaders(ctx, id, request.http2Headers(), 0, body == null, ctx.newPromise())
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        fail(id, RequestFailure.classify(f.cause(), ErrorKind.PROTOCOL));
                    }
                });
        if (body != null) {
            handler.encoder().writeData(ctx, id, body, 0, true, ctx.newPromise());
        }
        return () -> {
            if (pending.containsKey(id)) {
                fail(id, new RequestFailure(ErrorKind.TIMEOUT, "cancelled"));
                handler.resetStream(ctx, id, Http2Error.CANCEL.code(), ctx.newPromise());
                channel.flush();
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
    public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings settings) {
        if (!opened.isDone()) {
            try {
                handler.connection().local().flowController().incrementWindowSize(
                        handler.connection().connectionStream(), CONNECTION_WINDOW - 65_535);
            } catch (Exception e) {
                opened.tryFailure(RequestFailure.classify(e, ErrorKind.PROTOCOL));
                return;
            }
            channel.flush();
            if (!opened.trySuccess(this)) {
                channel.close();
            }
        }
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
                              short weight, boolean exclusive, int padding, boolean endStream) {
        onHeadersRead(ctx, streamId, headers, padding, endStream);
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                              boolean endStream) {
        Pending p = pending.get(streamId);
        if (p == null) {
            return;
        }
        if (!p.head) {
            int status;
            try {
                status = Integer.parseInt(String.valueOf(headers.status()));
            } catch (NumberFormatException e) {
                fail(streamId, new RequestFailure(ErrorKind.PROTOCOL, "bad :status " + headers.status()));
                return;
            }
            if (status >= 100 && status < 200) {
                return; // interim
            }
            p.head = true;
            p.listener.onHead(status, () -> list(headers, false));
            if (endStream) {
                complete(streamId, List.of());
            }
            return;
        }
        complete(streamId, list(headers, true)); // trailers end the stream
    }

    @Override
    public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endOfStream) {
        int processed = data.readableBytes() + padding;
        Pending p = pending.get(streamId);
        if (p != null) {
            if (data.isReadable()) {
                p.listener.onData(data);
            }
            if (endOfStream) {
                complete(streamId, List.of());
            }
        }
        return processed; // consumed at once: flow control never holds the peer back
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
        Http2Error e = Http2Error.valueOf(errorCode);
        fail(streamId, new RequestFailure(ErrorKind.RESET, "stream reset by the peer: "
                + (e == null ? "0x" + Long.toHexString(errorCode) : e.name())));
    }

    @Override
    public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debugData) {
        goAway = true; // streams above lastStreamId are closed by Netty, and fail in onStreamClosed
    }

    @Override
    public void onStreamClosed(Http2Stream stream) {
        if (pending.containsKey(stream.id())) {
            fail(stream.id(), new RequestFailure(ErrorKind.CLOSED, "stream closed before the response ended"));
        }
    }

    private void complete(int streamId, List<Map.Entry<String, String>> trailers) {
        Pending p = pending.remove(streamId);
        if (p != null) {
            p.listener.onComplete(trailers);
        }
    }

    private void fail(int streamId, RequestFailure f) {
        Pending p = pending.remove(streamId);
        if (p != null) {
            p.listener.onFailure(f);
        }
    }

    private static List<Map.Entry<String, String>> list(Http2Headers headers, boolean trailers) {
        List<Map.Entry<String, String>> all = new ArrayList<>();
        headers.forEach(e -> {
            String name = e.getKey().toString();
            if (!name.startsWith(":")) {
                all.add(new AbstractMap.SimpleImmutableEntry<>(name, e.getValue().toString()));
            }
        });
        return all;
    }
}
