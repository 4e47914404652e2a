package io.h3relay.upstream;

import io.h3relay.quic.Http3KeepAlive;
import io.h3relay.quic.StreamsClosedBeforeFin;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http3.DefaultHttp3SettingsFrame;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.http3.Http3GoAwayFrame;
import io.netty.handler.codec.http3.Http3SettingsFrame;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamLimitChangedEvent;
import io.netty.handler.codec.quic.QuicStreamType;
import io.netty.handler.codec.quic.QuicTransportParameters;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One QUIC connection to an endpoint carrying HTTP/3 request streams of many exchanges
 * ({@link Http3UpstreamStream}). It is ready once the endpoint's SETTINGS arrived on its control stream (only
 * then is its largest header section known); it takes a new stream while the endpoint's bidirectional stream
 * credit ({@code peerAllowedStreams}, raised by MAX_STREAMS as streams close) and
 * {@code pool.max_concurrent_streams} allow. A GOAWAY stops new streams (the pool opens a new connection for
 * new requests) and records the first stream id the endpoint will not process: streams at or above it failed
 * as REFUSED, safe to retry. Closed after {@code pool.idle_timeout} without a stream, or once drained.
 *
 * <p>Keep-alive: our QUIC idle timeout is set above {@code pool.idle_timeout}, so the connection outlives our
 * idle timer; the endpoint's may be shorter. Netty 4.2.18 cannot send a QUIC PING, so an {@link Http3KeepAlive}
 * sends an empty reserved HTTP/3 frame on our control stream (ack-eliciting, like a PING; peers ignore it)
 * when nothing arrived for a quarter of the shorter of the two idle timeouts: the endpoint's idle timer
 * restarts, and the connection lives until {@code pool.idle_timeout} closes it. An endpoint that stops
 * answering gets no further keep-alives, so a dead one is found by QUIC's idle timeout. Confined to the
 * connection's event loop.
 *
 * <p>Netty 4.2.18 keeps a stream that closed before the endpoint's FIN was read (a request cancelled because the
 * client went away, a stream the endpoint reset) until the connection closes ({@link StreamsClosedBeforeFin}).
 * After {@value StreamsClosedBeforeFin#LIMIT} of them the connection is retired (no new streams, closed after its
 * last one), so a long-lived pooled connection does not collect them without bound.
 */
final class Http3UpstreamConnection extends MultiplexedConnection {
    private static final Logger LOG = LoggerFactory.getLogger(Http3UpstreamConnection.class);
    /** Response header sections up to 64 KiB, as on h1 and h2. */
    static final long MAX_FIELD_SECTION_SIZE = 64 * 1024;

    private QuicChannel channel;
    private boolean settingsSeen;
    private boolean connectedOnce;
    /** The endpoint's GOAWAY id: streams with an id at or above were not processed; -1 before any GOAWAY. */
    private long goAwayId = -1;
    private long peerMaxFieldSection = Long.MAX_VALUE;
    private ScheduledFuture<?> timer;
    private final StreamsClosedBeforeFin closedBeforeFin = new StreamsClosedBeforeFin();

    Http3UpstreamConnection(Http3Pool pool, Promise<MultiplexedConnection> ready, boolean pooled) {
        super(pool, ready, pooled);
    }

    /** A stream closed before the endpoint's FIN was read (see the class comment). */
    void streamClosedBeforeFin() {
        if (closedBeforeFin.add()) {
            LOG.debug("h3 upstream connection {}: {} streams closed before their end; retiring it", channel,
                    StreamsClosedBeforeFin.LIMIT);
            retire();
        }
    }

    /** The QUIC channel's pipeline: Netty's HTTP/3 client connection handler, then this connection. */
    void addHandlers(QuicChannel ch) {
        channel = ch;
        DefaultHttp3SettingsFrame settings = new DefaultHttp3SettingsFrame();
        settings.put(Http3SettingsFrame.HTTP3_SETTINGS_MAX_FIELD_SECTION_SIZE, MAX_FIELD_SECTION_SIZE);
        ch.pipeline().addLast(new Http3ClientConnectionHandler(new ControlStream(), null, null, settings, true));
        ch.pipeline().addLast(this);
    }

    @Override
    QuicChannel channel() {
        return channel;
    }

    @Override
    Http3Pool pool() {
        return (Http3Pool) super.pool();
    }

    long peerMaxFieldSection() {
        return peerMaxFieldSection;
    }

    /** The QUIC handshake completed; ready once SETTINGS arrive (already, maybe). */
    @Override
    void connected() {
        connectedOnce = true;
        if (!channel.isActive()) {
            ready.tryFailure(new java.io.IOException("endpoint " + pool().endpoint() + " closed the QUIC connection"));
        } else if (settingsSeen) {
            becomeReady();
        } else {
            // An endpoint that completes the handshake but never sends SETTINGS (no HTTP/3 behind the QUIC
            // port) must not hold the requests waiting for this connection until QUIC's idle timeout.
            long timeout = pool().connectTimeout().toNanos();
            channel.eventLoop().schedule(() -> {
                if (ready.tryFailure(new QuicUpstreamConnector.QuicConnectException("endpoint " + pool().endpoint()
                        + " sent no HTTP/3 SETTINGS within connect_timeout", null))) {
                    channel.close();
                }
            }, timeout, TimeUnit.NANOSECONDS);
        }
    }

    /** Within the endpoint's bidirectional stream credit. */
    @Override
    boolean peerTakesAnotherStream(int active) {
        return channel.peerAllowedStreams(QuicStreamType.BIDIRECTIONAL) > 0;
    }

    @Override
    MultiplexedStream newStream() {
        return new Http3UpstreamStream(this);
    }

    /** Whether the endpoint said (GOAWAY) it will not process the stream {@code id}. */
    boolean refusedByGoAway(long id) {
        return goAwayId >= 0 && id >= goAwayId;
    }

    private void becomeReady() {
        if (ready.isDone()) {
            return;
        }
        if (pooled) {
            armTimer();
            channel.pipeline().addLast("h3-keep-alive", new Http3KeepAlive(keepAliveInterval()));
        }
        if (!ready.trySuccess(this)) {
            channel.close();
        }
    }

    /** The endpoint's control stream: SETTINGS (ready) and GOAWAY (drain). */
    private final class ControlStream extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http3SettingsFrame s) {
                    Long max = s.get(Http3SettingsFrame.HTTP3_SETTINGS_MAX_FIELD_SECTION_SIZE);
                    if (max != null) {
                        peerMaxFieldSection = max;
                    }
                    settingsSeen = true;
                    if (connectedOnce && channel.isActive()) {
                        becomeReady();
                    }
                } else if (msg instanceof Http3GoAwayFrame g) {
                    onGoAway(g.id());
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public boolean isSharable() {
            return false;
        }
    }

    private void onGoAway(long id) {
        LOG.debug("endpoint {} sent GOAWAY (id {}): draining {}", pool().endpoint(), id, channel);
        goAwayId = goAwayId < 0 ? id : Math.min(goAwayId, id);
        goneAway();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof QuicStreamLimitChangedEvent && ready.isSuccess()) {
            pool().streamSlotFreed(this); // MAX_STREAMS: the endpoint's credit grew
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
        }
        ready.tryFailure(new java.io.IOException("endpoint " + pool().endpoint()
                + " closed the QUIC connection before its HTTP/3 SETTINGS"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("HTTP/3 connection to {} failed", pool().endpoint(), cause);
        ready.tryFailure(cause);
        ctx.close();
    }

    // ---- keep-alive and idle close --------------------------------------------------------------------

    /** A quarter of the connection's QUIC idle timeout: the smaller of ours and the endpoint's (0: none). */
    private Duration keepAliveInterval() {
        long idle = pool().quicIdleTimeoutMillis();
        QuicTransportParameters peer = channel.peerTransportParameters();
        if (peer != null && peer.maxIdleTimeout() > 0) {
            idle = Math.min(idle, peer.maxIdleTimeout());
        }
        return Duration.ofMillis(Math.max(10, idle / 4));
    }

    private void armTimer() {
        long idle = pool().config().idleTimeout().toNanos();
        if (idle <= 0) {
            return;
        }
        timer = channel.eventLoop().schedule(this::tick, Math.max(idle / 4, TimeUnit.MILLISECONDS.toNanos(50)),
                TimeUnit.NANOSECONDS);
    }

    private void tick() {
        timer = null;
        if (!channel.isActive()) {
            return;
        }
        long idleTimeout = pool().config().idleTimeout().toNanos();
        if (activeStreams() == 0 && System.nanoTime() - idleSince() >= idleTimeout) {
            LOG.debug("closing HTTP/3 connection {} after idle_timeout", channel);
            closeIdle();
            return;
        }
        armTimer();
    }
}
