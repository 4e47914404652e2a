package io.h3relay.listener.h3;

import io.h3relay.config.Http3Config;
import io.h3relay.config.LimitsConfig;
import io.h3relay.config.ListenerConfig;
import io.h3relay.listener.ListenerContext;
import io.h3relay.quic.Http3KeepAlive;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http3.DefaultHttp3SettingsFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ServerConnectionHandler;
import io.netty.handler.codec.http3.Http3SettingIdentifier;
import io.netty.handler.codec.http3.Http3SettingsFrame;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicChannelOption;
import io.netty.handler.codec.quic.QuicCongestionControlAlgorithm;
import io.netty.handler.codec.quic.QuicConnectionIdGenerator;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Builds the QUIC server codec of one UDP socket from the listener's {@code http3:} block and limits.
 * Everything is set explicitly: what is left out falls back to quiche's defaults, not ours.
 * <pre>
 *   udp socket ─ quic codec ─► QuicChannel:       h3-guard ─ Http3ServerConnectionHandler [─ h3-keep-alive]
 *                             └► QuicStreamChannel: h3-stream (frames, QPACK, write coalescing) ─ session
 *                                (QPACK's dynamic table on: h3-write-coalesce ─ Netty's frame codec and validators
 *                                 ─ h3-stream-guard ─ h3-to-http ─ session)
 * </pre>
 */
final class Http3CodecFactory {
    /**
     * The largest UDP payload the listeners read (their sockets' read slots, {@code Transport.datagramReads}) and
     * advertise as max_udp_payload_size: above any path MTU but jumbo frames' (QUIC's packets are 1,200-1,500
     * bytes), as Netty's own 2 KiB datagram buffer was before.
     */
    static final int MAX_DATAGRAM = 2048;

    private final ListenerContext context;
    /** The listener's current QUIC TLS context, read per new connection (a reload may swap it). */
    private final java.util.function.Supplier<QuicSslContext> tls;
    private final long retryAfterSeconds;
    private final HmacTokenHandler tokens;
    /** True once HTTP/3 is being turned off at runtime: new QUIC connections are closed at once. */
    private final java.util.function.BooleanSupplier refusing;

    private final io.h3relay.quic.QlogSampler qlog;
    private final io.h3relay.quic.StatelessResets resets;
    private boolean warnedTokenBudget;

    Http3CodecFactory(ListenerContext context, java.util.function.Supplier<QuicSslContext> tls, long retryAfterSeconds,
                      java.util.function.BooleanSupplier refusing, io.h3relay.quic.QlogSampler qlog,
                      io.h3relay.quic.StatelessResets resets) {
        this.refusing = refusing;
        this.qlog = qlog;
        this.resets = resets;
        this.context = context;
        this.tls = tls;
        this.retryAfterSeconds = retryAfterSeconds;
        this.tokens = new HmacTokenHandler(context.connectionObserver()::quicRetrySent);
    }

    private io.h3relay.quic.AmplificationGuard amplification;

    /** The listener's anti-amplification guard (without Retry), told when a connection's handshake completed. */
    void amplificationGuard(io.h3relay.quic.AmplificationGuard guard) {
        this.amplification = guard;
    }

    ChannelHandler newCodec(boolean gso, QuicConnectionIdGenerator ids, int connectionIdLength, Runnable onConnection) {
        ListenerConfig cfg = context.config();
        Http3Config h3 = cfg.http3();
        LimitsConfig limits = cfg.limits();
        Duration idle = h3.idleTimeout() != null ? h3.idleTimeout() : limits.keepAliveTimeout();
        // The handshake's connection id gets a token derived from the reset key too (Netty has no hook for it).
        long maxBidi = Math.min(h3.maxBidirectionalStreams(), limits.maxConcurrentStreams());
        HandshakeResetTokens handshakeTokens = new HandshakeResetTokens(resets, ids,
                HandshakeResetTokens.transportParametersSize(idle.toMillis(), h3.initialMaxData(), h3.initialMaxStreamData(),
                        maxBidi, h3.maxUnidirectionalStreams(), !h3.activeMigration(), h3.retry(),
                        ids != null && connectionIdLength > 0 ? connectionIdLength : 20));
        if (!handshakeTokens.enabled() && h3.statelessResetKeyFile() != null && !warnedTokenBudget) {
            warnedTokenBudget = true;
            org.slf4j.LoggerFactory.getLogger(Http3CodecFactory.class).warn("listener {}: handshake connection ids get no "
                    + "stateless reset token (later ids do): with these settings quiche's 128-byte transport parameter "
                    + "buffer cannot hold it (retry: false makes room; see docs/protocols.md)", cfg.name());
        }
        QuicServerCodecBuilder b = Http3.newQuicServerCodecBuilder()
                // Per connection, not .sslContext(ctx): new handshakes see a certificate swapped in by a reload.
                // Also the one hook between a connection's creation and quiche's: qlog must be set before it.
                .sslEngineProvider(q -> {
                    io.netty.handler.codec.quic.QLogConfiguration log = qlog.next();
                    if (log != null) {
                        q.config().setOption(QuicChannelOption.QLOG, log);
                    }
                    handshakeTokens.beforeConnection(q);
                    return tls.get().newEngine(q.alloc());
                })
                .resetTokenGenerator(resets)
                .maxIdleTimeout(idle.toMillis(), TimeUnit.MILLISECONDS)
                .maxRecvUdpPayloadSize(MAX_DATAGRAM)
                .initialMaxData(h3.initialMaxData())
                .initialMaxStreamDataBidirectionalLocal(h3.initialMaxStreamData())
                .initialMaxStreamDataBidirectionalRemote(h3.initialMaxStreamData())
                .initialMaxStreamDataUnidirectional(h3.initialMaxStreamData())
                .initialMaxStreamsBidirectional(maxBidi)
                .initialMaxStreamsUnidirectional(h3.maxUnidirectionalStreams())
                .congestionControlAlgorithm(switch (h3.congestionControl()) {
                    case RENO -> QuicCongestionControlAlgorithm.RENO;
                    case CUBIC -> QuicCongestionControlAlgorithm.CUBIC;
                    case BBR -> QuicCongestionControlAlgorithm.BBR;
                })
                // false: disable_active_migration in our transport parameters. quiche still follows a client
                // whose address changed under it (NAT rebinding), validating the new path.
                .activeMigration(h3.activeMigration())
                .tokenHandler(h3.retry() ? tokens : null) // null: no address validation
                .handler(connectionInitializer(limits, onConnection));
        if (gso) {
            // Up to 10 packets per sendmsg: the kernel splits them (UDP GSO), one syscall instead of ten.
            b.option(QuicChannelOption.SEGMENTED_DATAGRAM_PACKET_ALLOCATOR,
                    io.h3relay.transport.Transport.segmentedAllocator(10));
        }
        QuicConnectionIdGenerator generator = handshakeTokens.generatorOr(ids);
        if (generator != null) {
            b.connectionIdAddressGenerator(generator);
        }
        if (ids != null) {
            b.localConnectionIdLength(connectionIdLength);
        }
        ChannelHandler codec = b.build();
        handshakeTokens.bind(codec);
        return codec;
    }

    private ChannelInitializer<QuicChannel> connectionInitializer(LimitsConfig limits, Runnable onConnection) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(QuicChannel ch) {
                // Last in the pipeline (the handlers below are added before it): peer-caused connection errors.
                ch.pipeline().addLast("quic-errors", QuicConnectionErrors.INSTANCE);
                if (refusing.getAsBoolean()) {
                    ch.close(); // HTTP/3 is off on this listener; the sockets close once its last connection ends
                    return;
                }
                onConnection.run();
                // Counted by the address the connection started from (a migrated connection keeps its count).
                java.net.InetAddress client = ch.remoteSocketAddress() instanceof java.net.InetSocketAddress a
                        ? a.getAddress() : null;
                if (!context.tryAcceptConnection(client)) {
                    ch.close();
                    return;
                }
                context.connections().add(ch);
                io.h3relay.quic.AmplificationGuard amp = amplification;
                if (amp != null) {
                    // Active = handshake completed: the client's address is validated (RFC 9000 section 8.1).
                    ch.pipeline().addBefore("quic-errors", "quic-validated", new io.netty.channel.ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelActive(io.netty.channel.ChannelHandlerContext ctx) {
                            amp.validated(ch.remoteSocketAddress());
                            ctx.pipeline().remove(this);
                            ctx.fireChannelActive();
                        }
                    });
                    if (ch.isActive()) {
                        amp.validated(ch.remoteSocketAddress());
                    }
                }
                context.connectionObserver().quicConnectionCreated(ch);
                ch.closeFuture().addListener(f -> context.connectionClosed(client));
                Http3ConnectionGuard guard = new Http3ConnectionGuard(context);
                ch.pipeline().addBefore("quic-errors", "h3-guard", guard);
                Http3Config h3 = context.config().http3();
                // QPACK's dynamic table both ways when a capacity is set: ours for the client's requests (our
                // SETTINGS), the client's for our responses (its SETTINGS); off, literals and the static table.
                Http3SettingsFrame settings = settings(limits, h3);
                Http3StreamInitializer requestStreams = new Http3StreamInitializer(context, guard, retryAfterSeconds,
                        settings.get(Http3SettingIdentifier.HTTP3_SETTINGS_MAX_FIELD_SECTION_SIZE.id()));
                Http3ServerConnectionHandler h3Handler = new Http3ServerConnectionHandler(requestStreams, null, null,
                        settings, h3.qpackMaxTableCapacity() == 0);
                if (h3.qpackMaxTableCapacity() == 0) {
                    guard.bypass(h3Handler, requestStreams); // request streams coded by h3relay itself
                } else {
                    // Netty 4.2.18 misreads relative indexes in the client's QPACK encoder instructions.
                    ch.pipeline().addBefore("quic-errors", "h3-qpack-fix", QpackEncoderStreamFix.installer(h3Handler));
                }
                ch.pipeline().addBefore("quic-errors", "h3", h3Handler);
                if (h3.zeroRtt()) {
                    QuicSessions.deliverEarlyStreams(ch);
                }
                Duration keepAlive = context.config().http3().keepAliveInterval();
                if (!keepAlive.isZero()) {
                    ch.pipeline().addBefore("quic-errors", "h3-keep-alive", new Http3KeepAlive(keepAlive));
                }
            }
        };
    }

    /**
     * SETTINGS: the largest field section we take (RFC 9114 §7.2.4.1), from max_request_headers_size, and
     * SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220).
     */
    private static Http3SettingsFrame settings(LimitsConfig limits, Http3Config h3) {
        DefaultHttp3SettingsFrame s = new DefaultHttp3SettingsFrame();
        // Looser than the limit, like h1/h2, so RequestChecks answers 431/414 with the JSON envelope.
        s.put(Http3SettingIdentifier.HTTP3_SETTINGS_MAX_FIELD_SECTION_SIZE.id(),
                2L * ((long) limits.maxRequestHeadersSize() + limits.maxRequestLineSize()));
        // RFC 9220: WebSockets over h3 streams (extended CONNECT with :protocol websocket).
        s.put(Http3SettingsFrame.HTTP3_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1L);
        if (h3.qpackMaxTableCapacity() > 0) {
            s.put(Http3SettingsFrame.HTTP3_SETTINGS_QPACK_MAX_TABLE_CAPACITY, h3.qpackMaxTableCapacity());
            s.put(Http3SettingsFrame.HTTP3_SETTINGS_QPACK_BLOCKED_STREAMS, (long) h3.qpackBlockedStreams());
        }
        return s;
    }
}
