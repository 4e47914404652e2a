package io.h3relay.upstream;

import io.h3relay.config.ClusterConfig;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.transport.Http2Codecs;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

/**
 * The multiplexed HTTP/2 {@link UpstreamPool} ({@code protocol: http2} over TLS with ALPN h2, or {@code h2c}
 * by prior knowledge): a {@link MultiplexedPool} (which see: per event loop, many streams per connection, a
 * new connection when full, GOAWAY drains) of {@link Http2UpstreamConnection}s, each a TCP connection whose
 * pipeline is Netty's frame codec, its multiplexer (one child channel per stream) and the connection's own
 * handler. The endpoint's limit is its SETTINGS_MAX_CONCURRENT_STREAMS.
 */
public final class Http2Pool extends MultiplexedPool<Http2UpstreamConnection> {
    /** Our receive window per stream: what one endpoint may send ahead of a slow client on one stream. */
    static final int STREAM_WINDOW = 1 << 20;
    /** Response header lists up to 64 KiB, as on HTTP/1.1. */
    private static final int MAX_RESPONSE_HEADERS = 64 * 1024;

    private final UpstreamConnector connector;
    private final boolean tls;

    public Http2Pool(Endpoint endpoint, ClusterConfig.Pool config, UpstreamConnector connector,
                     CircuitBreakers breakers, boolean tls) {
        super(endpoint, config, breakers);
        this.connector = connector;
        this.tls = tls;
    }

    boolean tls() {
        return tls;
    }

    @Override
    public UpstreamProtocol protocol() {
        return tls ? UpstreamProtocol.HTTP_2 : UpstreamProtocol.H2C;
    }

    @Override
    Http2UpstreamConnection newConnection(Promise<MultiplexedConnection> ready, boolean pooled) {
        return new Http2UpstreamConnection(this, ready, pooled);
    }

    @Override
    Future<Channel> connect(EventLoop loop, Http2UpstreamConnection conn) {
        // h2 = true for h2c too (it used to pass tls): a failed write closes an HTTP/2 connection, TLS or not
        return connector.connect(loop, endpoint(), true, p -> addHttp2Handlers(p, conn));
    }

    /** Frame codec, multiplexer (one child channel per stream) and the connection's own handler. */
    private static void addHttp2Handlers(ChannelPipeline p, Http2UpstreamConnection conn) {
        Http2Settings settings = Http2Settings.defaultSettings()
                .pushEnabled(false)
                .initialWindowSize(STREAM_WINDOW)
                .maxHeaderListSize(MAX_RESPONSE_HEADERS);
        p.addLast("h2", Http2Codecs.forClient().initialSettings(settings).validateHeaders(true).build());
        p.addLast("h2-mux", new Http2MultiplexHandler(REFUSE_PUSH));
        p.addLast("h2-connection", conn);
    }

    /** Server push is disabled in our SETTINGS; a pushed stream is closed at once. */
    private static final ChannelHandler REFUSE_PUSH = new RefusePush();

    @ChannelHandler.Sharable
    private static final class RefusePush extends ChannelInboundHandlerAdapter {
        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.close();
        }
    }
}
