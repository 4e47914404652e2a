package io.h3relay.listener.h3;

import io.h3relay.config.Http3Config;
import io.h3relay.config.ListenerConfig;
import io.h3relay.listener.ListenerContext;
import io.h3relay.config.TlsServerConfig;
import io.h3relay.tls.TlsConfigException;
import io.h3relay.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.unix.UnixChannelOption;
import io.netty.handler.codec.quic.Quic;
import io.netty.handler.codec.quic.QuicCodecDispatcher;
import io.netty.handler.codec.quic.QuicConnectionIdGenerator;
import io.netty.handler.codec.quic.QuicSslContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * HTTP/3 on a TLS listener: UDP on the listener's port, {@code sockets} SO_REUSEPORT sockets (one per
 * core by default) behind one connection-id dispatcher, so a connection always lands on the socket — and
 * event loop — that owns it. Each QUIC connection then lives on that loop with all its streams.
 */
public final class Http3Listener {
    private static final Logger LOG = LoggerFactory.getLogger(Http3Listener.class);
    /** Wanted UDP socket buffer sizes; the kernel may cap them (net.core.rmem_max / wmem_max). */
    static final int UDP_BUFFER = 4 * 1024 * 1024;

    private final ListenerContext context;
    /** Read per new QUIC connection, so a reload's new certificate serves the next handshake. */
    private volatile QuicServerTls tls;
    /** Session ticket keys of every context this listener uses (all its UDP sockets share them). */
    private final io.h3relay.quic.TicketKeys tickets;
    private final io.h3relay.quic.QlogSampler qlog;
    private final io.h3relay.quic.StatelessResets resets;
    private final List<Channel> sockets = new ArrayList<>();
    /** QUIC connections accepted per UDP socket, in socket order: shows how the kernel spreads them. */
    private AtomicLongArray connectionsPerSocket = new AtomicLongArray(0);
    /** Set when HTTP/3 is turned off at runtime ({@link #stopAccepting}). */
    private volatile boolean refusing;

    private Http3Listener(ListenerContext context, io.h3relay.quic.TicketKeys tickets, io.h3relay.quic.QlogSampler qlog,
                          io.h3relay.quic.StatelessResets resets) {
        this.context = context;
        this.tickets = tickets;
        this.qlog = qlog;
        this.resets = resets;
    }

    /** Checks QUIC is available and builds the TLS context; nothing is bound yet. */
    public static Http3Listener create(ListenerContext context, String configPath) throws TlsConfigException {
        return create(context, context.config().tls(), configPath);
    }

    /**
     * As {@link #create(ListenerContext, String)} with the TLS block {@code tls} in place of the one the listener
     * was built with: HTTP/3 turned on again after a reload that changed the certificate serves the new one.
     */
    public static Http3Listener create(ListenerContext context, TlsServerConfig tls, String configPath)
            throws TlsConfigException {
        if (!Quic.isAvailable()) {
            Throwable why = Quic.unavailabilityCause();
            throw new TlsConfigException(configPath + ".protocols: http3 needs QUIC, which is unavailable on this "
                    + "platform (" + (why == null ? "unknown reason" : why.getMessage()) + ")", why);
        }
        Http3Config h3 = context.config().http3();
        io.h3relay.quic.TicketKeys tickets;
        io.h3relay.quic.QlogSampler qlog;
        io.h3relay.quic.StatelessResets resets;
        try {
            tickets = new io.h3relay.quic.TicketKeys(h3.ticketKeyFile(), h3.ticketKeyRotation());
        } catch (java.io.IOException e) {
            throw new TlsConfigException(configPath + ".http3.ticket_key_file: " + e.getMessage(), e);
        }
        try {
            qlog = new io.h3relay.quic.QlogSampler(h3.qlogDir(), h3.qlogSample(), h3.qlogMaxSize(), context.name());
        } catch (java.io.IOException e) {
            throw new TlsConfigException(configPath + ".http3.qlog_dir: cannot create " + h3.qlogDir() + ": " + e, e);
        }
        try {
            resets = h3.statelessResetKeyFile() == null ? io.h3relay.quic.StatelessResets.random()
                    : new io.h3relay.quic.StatelessResets(io.h3relay.config.QuicKeyFiles.resetKey(h3.statelessResetKeyFile()));
        } catch (java.io.IOException e) {
            throw new TlsConfigException(configPath + ".http3.stateless_reset_key_file: " + e.getMessage(), e);
        }
        Http3Listener l = new Http3Listener(context, tickets, qlog, resets);
        l.swapTls(l.newTls(tls, configPath));
        return l;
    }

    /**
     * Reads the certificate files of {@code tls} and builds the QUIC TLS contexts (ALPN h3, early data as
     * {@code http3.zero_rtt} says).
     */
    public QuicServerTls newTls(TlsServerConfig tls, String configPath) throws TlsConfigException {
        return QuicTls.build(tls, configPath + ".tls", context.config().http3().zeroRtt());
    }

    /**
     * New QUIC handshakes use {@code next} from now on; open connections keep theirs. The ticket keys carry
     * over, so sessions resume across a certificate swap.
     */
    public void swapTls(QuicServerTls next) {
        tickets.use(next.all());
        tls = java.util.Objects.requireNonNull(next);
    }

    public io.h3relay.quic.TicketKeys ticketKeys() {
        return tickets;
    }

    public io.h3relay.quic.QlogSampler qlog() {
        return qlog;
    }

    public io.h3relay.quic.StatelessResets statelessResets() {
        return resets;
    }

    public ListenerContext context() {
        return context;
    }

    /** Binds the UDP sockets on the port the TCP listener got (so port 0 means the same port as TCP). */
    public void bind(Transport transport, EventLoopGroup workers, int port, long retryAfterSeconds)
            throws InterruptedException {
        ListenerConfig cfg = context.config();
        Http3Config h3 = cfg.http3();
        InetSocketAddress address = new InetSocketAddress(cfg.address().toSocketAddress().getAddress(), port);
        boolean reusePort = transport.reusePort();
        int count = reusePort ? (h3.sockets() > 0 ? h3.sockets() : Runtime.getRuntime().availableProcessors()) : 1;
        if (!reusePort && h3.sockets() != 1) {
            LOG.warn("listener {}: http3.sockets needs a native transport (SO_REUSEPORT); using one UDP socket",
                    cfg.name());
        }
        boolean gso = h3.gso() && transport.segmentedDatagrams();
        if (h3.gso() && !gso) {
            LOG.info("listener {}: UDP segmentation offload (GSO) unavailable here; sending one datagram per write",
                    cfg.name());
        }
        Http3CodecFactory codecs = new Http3CodecFactory(context, () -> tls.main(), retryAfterSeconds, () -> refusing,
                qlog, resets);
        AtomicLongArray perSocket = new AtomicLongArray(count);
        connectionsPerSocket = perSocket;
        AtomicInteger nextIndex = new AtomicInteger();
        byte[] serverId = h3.serverId() == null ? null : io.h3relay.quic.QuicLbConnectionIds.parseServerId(h3.serverId());
        ChannelHandler quic = count == 1
                ? codecs.newCodec(gso, serverId == null ? null : new io.h3relay.quic.QuicLbConnectionIds(serverId, 0),
                        serverId == null ? 0 : io.h3relay.quic.QuicLbConnectionIds.LENGTH, () -> perSocket.incrementAndGet(0))
                : new QuicCodecDispatcher() {
                    @Override
                    protected void initChannel(Channel channel, int localConnectionIdLength,
                                               QuicConnectionIdGenerator idGenerator) {
                        int index = nextIndex.getAndIncrement();
                        channel.pipeline().addLast(codecs.newCodec(gso, idGenerator, localConnectionIdLength,
                                () -> perSocket.incrementAndGet(index)));
                    }

                    // QUIC-LB: the socket index follows the server id instead of leading the id.
                    @Override
                    protected int decodeIndex(io.netty.buffer.ByteBuf connectionId) {
                        return serverId == null ? super.decodeIndex(connectionId)
                                : io.h3relay.quic.QuicLbConnectionIds.socketIndex(connectionId, serverId.length);
                    }

                    @Override
                    protected QuicConnectionIdGenerator newIdGenerator(int idx) {
                        return serverId == null ? super.newIdGenerator(idx)
                                : new io.h3relay.quic.QuicLbConnectionIds(serverId, idx);
                    }
                };
        // First, datagrams under 1200 bytes that could start a connection are dropped (RFC 9000 section 14.1;
        // Netty would answer them with a Retry or Version Negotiation larger than 3x their size). With QUIC-LB
        // ids, a packet for another server's id is answered with a stateless reset (one handler per socket, in
        // front of the codec).
        io.h3relay.quic.SmallInitialFilter smallInitials = new io.h3relay.quic.SmallInitialFilter();
        // Without Retry, unvalidated addresses get at most 3x what they sent (quiche's probes go beyond).
        io.h3relay.quic.AmplificationGuard amplification = h3.retry() ? null : new io.h3relay.quic.AmplificationGuard();
        codecs.amplificationGuard(amplification);
        ChannelHandler handler = new io.netty.channel.ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast("quic-small-initials", smallInitials);
                if (amplification != null) {
                    ch.pipeline().addLast("quic-amplification", amplification);
                }
                if (serverId != null) {
                    ch.pipeline().addLast("quic-lb-reset",
                            resets.handler(new io.h3relay.quic.QuicLbConnectionIds(serverId, 0)));
                }
                ch.pipeline().addLast("quic", quic);
            }
        };
        try {
            for (int i = 0; i < count; i++) {
                Bootstrap b = new Bootstrap().group(workers)
                        .channel(transport.datagramChannelClass())
                        .option(ChannelOption.SO_RCVBUF, UDP_BUFFER)
                        .option(ChannelOption.SO_SNDBUF, UDP_BUFFER)
                        // Not reading until every listener is bound (startReading): all or none.
                        .option(ChannelOption.AUTO_READ, false)
                        .handler(handler);
                // Up to 16 datagrams per recvmmsg instead of a recvmsg each: under load a request's datagram
                // rarely comes alone (docs/benchmarks.md, "io_uring": 794 calls for about 9,200 requests).
                transport.datagramReads(b, Http3CodecFactory.MAX_DATAGRAM, 16);
                if (reusePort) {
                    b.option(UnixChannelOption.SO_REUSEPORT, count > 1);
                }
                sockets.add(b.bind(address).sync().channel());
            }
        } catch (Exception e) { // a native bind failure arrives as a checked IOException, thrown by sync()
            close(); // the sockets bound before the one that failed
            sockets.clear();
            throw e;
        }
        checkBuffers(cfg.name());
        tickets.start(workers.next());
        LOG.info("listener {}: http3 on udp {} ({} socket{}{})", cfg.name(), sockets.get(0).localAddress(), count,
                count == 1 ? "" : "s", gso ? ", GSO" : "");
    }

    private void checkBuffers(String name) {
        Channel ch = sockets.get(0);
        int rcv = ch.config().getOption(ChannelOption.SO_RCVBUF);
        int snd = ch.config().getOption(ChannelOption.SO_SNDBUF);
        if (rcv < UDP_BUFFER || snd < UDP_BUFFER) {
            LOG.warn("listener {}: UDP socket buffers capped by the kernel (receive {} KiB, send {} KiB, wanted {} KiB);"
                    + " raise net.core.rmem_max / net.core.wmem_max for high-throughput HTTP/3", name, rcv / 1024,
                    snd / 1024, UDP_BUFFER / 1024);
        }
    }

    /** Every listener is bound: read datagrams from now on. */
    public void startReading() {
        for (Channel ch : sockets) {
            ch.config().setAutoRead(true);
        }
    }

    public List<Channel> sockets() {
        return sockets;
    }

    /** Connections accepted so far by each UDP socket (index = bind order). */
    public long[] connectionsPerSocket() {
        long[] out = new long[connectionsPerSocket.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = connectionsPerSocket.get(i);
        }
        return out;
    }

    /**
     * HTTP/3 is being turned off: new QUIC connections are closed as soon as they are created (the client's
     * handshake fails); those open go on until the caller has them finish (GOAWAY) and {@link #close}s.
     */
    public void stopAccepting() {
        refusing = true;
    }

    /** The open QUIC connections of this listener. */
    public List<Channel> connections() {
        return context.connections().stream().filter(c -> c instanceof io.netty.handler.codec.quic.QuicChannel)
                .toList();
    }

    public void close() {
        tickets.stop();
        for (Channel ch : sockets) {
            ch.close().syncUninterruptibly();
        }
    }
}
