package io.h3relay.client.h3;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramChannel;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.quic.Quic;
import io.h3relay.client.Sni;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslEngine;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The QUIC client side every HTTP/3 user here shares ({@code request}, {@code bench}, the test
 * fixtures' HTTP/3 client): one codec configuration, with every transport parameter set rather than
 * left to quiche's defaults, and a UDP socket to carry it.
 */
public final class QuicClients {
    private QuicClients() {
    }

    /** Fails with a clear message where the native QUIC library does not load (not linux-x86_64, say). */
    public static void ensureAvailable() {
        if (!Quic.isAvailable()) {
            throw new IllegalStateException("HTTP/3 is not available on this platform: " + Quic.unavailabilityCause(),
                    Quic.unavailabilityCause());
        }
    }

    /** The client codec: windows large enough that flow control never limits a local benchmark. */
    public static ChannelHandler codec(QuicSslContext tls) {
        ensureAvailable();
        return Http3.newQuicClientCodecBuilder()
                .sslContext(tls)
                // The peer's name goes into the engine, for SNI (also a name without a dot, which Netty
                // would leave out: Sni) and for checking the certificate's names.
                .sslEngineProvider(q -> {
                    InetSocketAddress peer = (InetSocketAddress) q.remoteSocketAddress();
                    QuicSslEngine engine = tls.newEngine(q.alloc(), peer.getHostString(), peer.getPort());
                    Sni.set(engine, peer.getHostString());
                    return engine;
                })
                .maxIdleTimeout(30_000, TimeUnit.MILLISECONDS)
                .initialMaxData(64L << 20)
                .initialMaxStreamDataBidirectionalLocal(4L << 20)
                .initialMaxStreamDataBidirectionalRemote(4L << 20)
                .initialMaxStreamsBidirectional(1000)
                .initialMaxStreamsUnidirectional(100)
                .build();
    }

    /**
     * Wanted UDP socket buffer sizes (the kernel caps them at net.core.rmem_max / wmem_max), as the server's
     * listener asks for. With the default (~208 KiB) a burst of responses overflows the receive buffer: the
     * windows above let a server send megabytes at once, the kernel drops the excess, and the transfer waits
     * for QUIC's loss recovery, whose probe timeouts back off exponentially: seconds under CPU contention.
     */
    static final int UDP_BUFFER = 4 * 1024 * 1024;

    /** A UDP socket on an ephemeral port carrying {@code codec}: one per connection gives each its own 4-tuple. */
    public static ChannelFuture bind(EventLoopGroup loop, Class<? extends DatagramChannel> type, ChannelHandler codec) {
        return new Bootstrap().group(loop).channel(type)
                .option(ChannelOption.SO_RCVBUF, UDP_BUFFER)
                .option(ChannelOption.SO_SNDBUF, UDP_BUFFER)
                .handler(codec).bind(0);
    }

    /** Closes a client QUIC connection and the UDP socket under it (closing the first leaves the second open). */
    public static void close(Channel quic, Channel udp) {
        if (quic != null) {
            quic.close().addListener(f -> udp.close());
        } else {
            udp.close();
        }
    }
}
