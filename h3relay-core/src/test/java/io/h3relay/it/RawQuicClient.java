package io.h3relay.it;

import io.h3relay.client.ClientTls;
import io.h3relay.client.h3.QuicClients;
import io.h3relay.testing.RawHttp3Stream;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.handler.codec.quic.QuicChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Netty's QUIC client on one NIO event loop, trusting the test CA, for tests that write HTTP/3 streams by hand
 * ({@link RawHttp3Stream}): one UDP socket, any number of connections to the relay's TLS port.
 */
final class RawQuicClient implements AutoCloseable {
    private final EventLoopGroup group;
    private final Channel udp;

    RawQuicClient() throws InterruptedException {
        this(null);
    }

    /** {@code threadName}: the name of the client's event-loop thread (null: Netty's default). */
    RawQuicClient(String threadName) throws InterruptedException {
        group = threadName == null ? new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory())
                : new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(threadName), NioIoHandler.newFactory());
        udp = QuicClients.bind(group, NioDatagramChannel.class,
                QuicClients.codec(ClientTls.trusting(RelayHarness.certs().caCert()).quic())).sync().channel();
    }

    /** A new QUIC connection (with Netty's HTTP/3 client handler) to 127.0.0.1:{@code port}. */
    QuicChannel connect(int port) throws Exception {
        return RawHttp3Stream.connect(udp, new InetSocketAddress("127.0.0.1", port));
    }

    @Override
    public void close() {
        udp.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
