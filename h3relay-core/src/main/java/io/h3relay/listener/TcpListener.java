package io.h3relay.listener;

import io.h3relay.config.ListenerConfig;
import io.h3relay.config.Protocol;
import io.h3relay.tls.ServerTls;
import io.h3relay.tls.ServerTlsContexts;
import io.h3relay.tls.TlsConfigException;
import io.h3relay.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.ssl.ApplicationProtocolNames;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** One TCP listener: binds its address and serves h1, h2 (TLS + ALPN) or h1 + h2c (plaintext). */
public final class TcpListener {
    private final ListenerContext context;
    /** Read per accepted connection, so a reload's new certificate serves the next handshake. */
    private volatile ServerTls tls;
    private Channel serverChannel;

    private TcpListener(ListenerContext context, ServerTls tls) {
        this.context = context;
        this.tls = tls;
    }

    /** Builds TLS contexts (errors here stop the start, before anything binds). */
    public static TcpListener create(ListenerContext context) throws TlsConfigException {
        ListenerConfig cfg = context.config();
        return new TcpListener(context, cfg.isTls() ? buildTls(cfg) : null);
    }

    /**
     * Reads {@code cfg}'s certificate files and builds its TLS contexts, with the ALPN list its protocols
     * give; used at start and by a reload (which always reads the files again).
     */
    public static ServerTls buildTls(ListenerConfig cfg) throws TlsConfigException {
        return buildTls(cfg, "tls");
    }

    /** As {@link #buildTls(ListenerConfig)}, naming {@code configPath} (e.g. "listeners[0].tls") in errors. */
    public static ServerTls buildTls(ListenerConfig cfg, String configPath) throws TlsConfigException {
        List<String> alpn = new ArrayList<>();
        if (cfg.protocols().contains(Protocol.HTTP2)) {
            alpn.add(ApplicationProtocolNames.HTTP_2);
        }
        if (cfg.protocols().contains(Protocol.HTTP1) || alpn.isEmpty()) {
            alpn.add(ApplicationProtocolNames.HTTP_1_1);
        }
        return ServerTlsContexts.build(cfg.tls(), alpn, configPath);
    }

    /**
     * New handshakes use {@code next} from now on; connections already open keep the session they have.
     * Only for a TLS listener (a listener does not turn TLS on or off in place).
     */
    public void swapTls(ServerTls next) {
        if (tls == null || next == null) {
            throw new IllegalStateException("listener " + context.name() + ": TLS cannot be turned on or off in place");
        }
        tls = next;
    }

    public void bind(Transport transport, EventLoopGroup boss, EventLoopGroup workers, Duration drainTimeout,
                     long retryAfterSeconds) throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                // Bound but not accepting until every listener is bound (startAccepting): all or none.
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 256 * 1024))
                .childHandler(new TcpListenerInitializer(context, tls == null ? null : () -> tls, drainTimeout, retryAfterSeconds));
        serverChannel = b.bind(context.config().address().toSocketAddress()).sync().channel();
    }

    /** Every listener is bound: accept connections from now on. */
    public void startAccepting() {
        serverChannel.config().setAutoRead(true);
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    public ListenerContext context() {
        return context;
    }

    /** Stops accepting; open connections are left to the drain. */
    public void closeServerChannel() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
    }
}
