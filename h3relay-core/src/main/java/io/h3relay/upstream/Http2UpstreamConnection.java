package io.h3relay.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * One HTTP/2 connection to an endpoint, shared by many exchanges: each gets a stream
 * ({@link Http2UpstreamStream}, a child channel of Netty's {@code Http2MultiplexHandler}). Sits last in the
 * connection's pipeline, after the frame codec and the multiplexer, and sees the connection-level frames:
 * SETTINGS (the endpoint's stream limit; the connection is ready once the first arrived), GOAWAY (no new
 * streams; the pool drains it while new requests go to a new connection), PING acknowledgements.
 *
 * <p>Keep-alive: while the connection has no stream, a PING goes out every {@code pingNanos}; one left
 * unanswered for a whole interval closes the connection (the endpoint or the path is gone), and so does
 * {@code pool.idle_timeout} without a stream. Confined to its event loop.
 */
final class Http2UpstreamConnection extends MultiplexedConnection {
    private static final Logger LOG = LoggerFactory.getLogger(Http2UpstreamConnection.class);
    /** Our receive window for the whole connection (each stream has its own, see {@link Http2Pool}). */
    static final int CONNECTION_WINDOW = 16 << 20;

    private Channel channel;
    private Http2FrameCodec codec;
    /** TCP (and TLS) are up: failures from now on are this handler's to report; before, the connector's. */
    private boolean connected;
    private long pingSentAt;
    private boolean pingOutstanding;
    private ScheduledFuture<?> timer;
    /** The endpoint's SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441): extended CONNECT (WebSockets) allowed. */
    private boolean connectProtocol;
    /** Opens this connection's streams (on its event loop only). */
    private Http2StreamChannelBootstrap streams;

    Http2UpstreamConnection(Http2Pool pool, Promise<MultiplexedConnection> ready, boolean pooled) {
        super(pool, ready, pooled);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        codec = ctx.pipeline().get(Http2FrameCodec.class);
        // Requests are written while the downstream connection is being read (another channel): a flush per
        // stream and frame was a writev per HEADERS and per DATA (2 per gRPC call). Flushes now wait for the
        // end of this event-loop turn (or of this connection's read batch), so the frames of all the streams
        // written meanwhile leave in one writev.
        if (codec != null && ctx.pipeline().get(FlushConsolidationHandler.class) == null) {
            ctx.pipeline().addBefore(ctx.pipeline().context(codec).name(), "h2-flush", new FlushConsolidationHandler(
                    FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
        }
    }

    /** A new child channel of the multiplexer with {@code handler} as its initializer. */
    Future<Http2StreamChannel> openStream(ChannelHandler handler) {
        if (!channel.eventLoop().inEventLoop()) {
            return new Http2StreamChannelBootstrap(channel).handler(handler).open();
        }
        // On the loop the bootstrap adds the handler before open() returns, so one bootstrap (and its
        // option maps, and the multiplexer's context it looks up once) serves every stream of the connection.
        if (streams == null) {
            streams = new Http2StreamChannelBootstrap(channel);
        }
        return streams.handler(handler).open();
    }

    @Override
    Channel channel() {
        return channel;
    }

    @Override
    Http2Pool pool() {
        return (Http2Pool) super.pool();
    }

    /** Under the endpoint's SETTINGS_MAX_CONCURRENT_STREAMS. */
    @Override
    boolean peerTakesAnotherStream(int active) {
        return active < codec.connection().local().maxActiveStreams();
    }

    @Override
    MultiplexedStream newStream() {
        return new Http2UpstreamStream(this);
    }

    /** The connector's part succeeded (TCP, TLS and ALPN); SETTINGS are next. */
    @Override
    void connected() {
        connected = true;
        if (!channel.isActive()) {
            ready.tryFailure(new java.io.IOException("endpoint " + pool().endpoint() + " closed the connection"));
        }
    }

    /** The endpoint advertised SETTINGS_ENABLE_CONNECT_PROTOCOL = 1: it accepts WebSockets (RFC 8441). */
    boolean acceptsExtendedConnect() {
        return connectProtocol;
    }

    // ---- connection-level frames --------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2SettingsFrame settings) {
                Boolean cp = settings.settings().connectProtocolEnabled();
                if (cp != null) {
                    connectProtocol = cp; // RFC 8441 section 3: once 1, a later 0 is a protocol error; kept simple
                }
                onSettings();
            } else if (msg instanceof Http2GoAwayFrame g) {
                onGoAway(g);
            } else if (msg instanceof Http2PingFrame ping && ping.ack()) {
                pingOutstanding = false;
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onSettings() {
        if (ready.isDone()) {
            pool().streamSlotFreed(this); // the limit may have grown
            return;
        }
        // Open our connection window wide at once (the stream windows are set by SETTINGS).
        channel.write(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - 65_535));
        channel.flush();
        if (pooled) {
            armTimer();
        }
        if (!ready.trySuccess(this)) {
            channel.close();
        }
    }

    private void onGoAway(Http2GoAwayFrame g) {
        LOG.debug("endpoint {} sent GOAWAY (last stream {}, error {}): draining {}", pool().endpoint(),
                g.lastStreamId(), g.errorCode(), channel);
        goneAway();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
        }
        if (connected) {
            ready.tryFailure(new java.io.IOException("endpoint " + pool().endpoint()
                    + " closed the connection before its HTTP/2 SETTINGS"));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("HTTP/2 connection to {} failed", pool().endpoint(), cause);
        if (connected) {
            ready.tryFailure(cause);
        }
        ctx.close();
    }

    // ---- keep-alive and idle close --------------------------------------------------------------------

    private void armTimer() {
        long interval = pingInterval();
        if (interval <= 0) {
            return;
        }
        timer = channel.eventLoop().schedule(this::tick, interval, TimeUnit.NANOSECONDS);
    }

    /**
     * PING while idle: every half idle_timeout (at most 30 s), so that a dead connection is noticed before
     * a request is put on it, and an idle one outlives NAT and endpoint idle timers until idle_timeout.
     */
    private long pingInterval() {
        long idle = pool().config().idleTimeout().toNanos();
        return idle <= 0 ? TimeUnit.SECONDS.toNanos(30) : Math.min(idle / 2, TimeUnit.SECONDS.toNanos(30));
    }

    private void tick() {
        timer = null;
        if (!channel.isActive()) {
            return;
        }
        long now = System.nanoTime();
        long idleTimeout = pool().config().idleTimeout().toNanos();
        if (activeStreams() == 0 && idleTimeout > 0 && now - idleSince() >= idleTimeout) {
            LOG.debug("closing HTTP/2 connection {} after idle_timeout", channel);
            closeIdle();
            return;
        }
        if (pingOutstanding) {
            LOG.debug("endpoint {} did not answer a PING within {} ms: closing {}", pool().endpoint(),
                    TimeUnit.NANOSECONDS.toMillis(now - pingSentAt), channel);
            channel.close();
            return;
        }
        if (activeStreams() == 0) {
            pingOutstanding = true;
            pingSentAt = now;
            channel.writeAndFlush(new DefaultHttp2PingFrame(now));
        }
        armTimer();
    }
}
