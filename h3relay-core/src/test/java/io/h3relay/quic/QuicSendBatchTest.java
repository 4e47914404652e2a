package io.h3relay.quic;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.it.RelayHarness;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.InsecureQuicTokenHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link QuicSendBatch} over a real QUIC connection (Netty's codec on loopback, no HTTP/3): writes to two streams
 * of one connection in one event-loop task are sent right after the task, with one flush of the UDP socket, when
 * the connection's sends are deferred; without, each write is sent at once with a flush of its own (Netty's own
 * behaviour).
 */
class QuicSendBatchTest {
    private static final int ROUNDS = 10;
    private static EventLoopGroup group;
    private static Channel serverUdp;
    private static Channel clientUdp;
    private static QuicChannel client;
    /** The server's side of the two streams the client opened. */
    private static final List<QuicStreamChannel> SERVER_STREAMS = new CopyOnWriteArrayList<>();
    /** Flushes that reached the server's UDP socket (below Netty's QUIC codec). */
    private static final AtomicLong SOCKET_FLUSHES = new AtomicLong();
    /** Stream bytes the client received. */
    private static final AtomicLong CLIENT_BYTES = new AtomicLong();

    @BeforeAll
    static void connect() throws Exception {
        assertThat(QuicSendBatch.available()).as("Netty's QUIC internals found").isTrue();
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        var certs = RelayHarness.certs();
        var serverTls = QuicSslContextBuilder.forServer(certs.keyPath().toFile(), null, certs.certPath().toFile())
                .applicationProtocols("batch-test").build();
        var serverCodec = new QuicServerCodecBuilder().sslContext(serverTls)
                .maxIdleTimeout(30, TimeUnit.SECONDS)
                .initialMaxData(1 << 20).initialMaxStreamDataBidirectionalRemote(1 << 16)
                .initialMaxStreamDataBidirectionalLocal(1 << 16).initialMaxStreamsBidirectional(10)
                .tokenHandler(InsecureQuicTokenHandler.INSTANCE)
                .handler(new ChannelInboundHandlerAdapter())
                .streamHandler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void handlerAdded(ChannelHandlerContext ctx) {
                        SERVER_STREAMS.add((QuicStreamChannel) ctx.channel());
                    }

                    @Override
                    public boolean isSharable() {
                        return true;
                    }

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ReferenceCountUtil.release(msg);
                    }
                }).build();
        serverUdp = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(serverCodec)
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        serverUdp.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
            @Override
            public void flush(ChannelHandlerContext ctx) {
                SOCKET_FLUSHES.incrementAndGet();
                ctx.flush();
            }
        });
        var clientTls = QuicSslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE)
                .applicationProtocols("batch-test").build();
        var clientCodec = new QuicClientCodecBuilder().sslContext(clientTls)
                .maxIdleTimeout(30, TimeUnit.SECONDS)
                .initialMaxData(1 << 20).initialMaxStreamDataBidirectionalLocal(1 << 16)
                .initialMaxStreamDataBidirectionalRemote(1 << 16).build();
        clientUdp = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(clientCodec)
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        client = QuicChannel.newBootstrap(clientUdp).handler(new ChannelInboundHandlerAdapter())
                .streamHandler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ReferenceCountUtil.release(msg);
                    }
                })
                .remoteAddress(serverUdp.localAddress()).connect().get(10, TimeUnit.SECONDS);
        for (int i = 0; i < 2; i++) {
            QuicStreamChannel stream = client.createStream(QuicStreamType.BIDIRECTIONAL,
                    new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            CLIENT_BYTES.addAndGet(((ByteBuf) msg).readableBytes());
                            ReferenceCountUtil.release(msg);
                        }
                    }).get(10, TimeUnit.SECONDS);
            stream.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'x'})).sync();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (SERVER_STREAMS.size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(SERVER_STREAMS).hasSize(2);
    }

    @AfterAll
    static void close() throws Exception {
        if (client != null) {
            client.close().await(5, TimeUnit.SECONDS);
        }
        for (Channel c : new Channel[] {clientUdp, serverUdp}) {
            if (c != null) {
                c.close().await(5, TimeUnit.SECONDS);
            }
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
    }

    /** What the server's connection did in ROUNDS tasks that each write 100 bytes to both streams. */
    private record Rounds(long sentDuringTasks, long sentInAll, long socketFlushes) {}

    private static Rounds run(boolean deferred) throws Exception {
        QuicChannel server = (QuicChannel) SERVER_STREAMS.get(0).parent();
        long duringTasks = 0;
        long inAll = 0;
        long flushesBefore = SOCKET_FLUSHES.get();
        for (int i = 0; i < ROUNDS; i++) {
            long before = server.collectStats().get(5, TimeUnit.SECONDS).sent();
            duringTasks += server.eventLoop().submit(() -> {
                if (deferred) {
                    QuicSendBatch.defer(server);
                }
                long start = server.collectStats().getNow().sent();
                for (QuicStreamChannel s : SERVER_STREAMS) {
                    s.writeAndFlush(Unpooled.wrappedBuffer(new byte[100]));
                }
                return server.collectStats().getNow().sent() - start;
            }).get(5, TimeUnit.SECONDS);
            // queued behind the deferred send (if any): counts all the round sent
            long after = server.eventLoop().submit(() -> server.collectStats().getNow().sent())
                    .get(5, TimeUnit.SECONDS);
            inAll += after - before;
        }
        return new Rounds(duringTasks, inAll, SOCKET_FLUSHES.get() - flushesBefore);
    }

    @Test
    void streamWritesOfOneTaskAreSentAfterItWithOneSocketFlush() throws Exception {
        Rounds atOnce = run(false);
        Rounds deferred = run(true);
        System.out.printf("QuicSendBatch, %d rounds of two stream writes: at once %s, deferred %s%n", ROUNDS, atOnce,
                deferred);
        // Netty's own behaviour: a quiche send and a socket flush per stream write
        assertThat(atOnce.sentDuringTasks()).isEqualTo(2L * ROUNDS);
        assertThat(atOnce.socketFlushes()).isGreaterThanOrEqualTo(2L * ROUNDS);
        // deferred: nothing while the task runs, everything right after it, in one flush of the UDP socket per round
        // (a delayed-ACK timer may add a flush now and then)
        assertThat(deferred.sentDuringTasks()).isZero();
        assertThat(deferred.sentInAll()).isGreaterThanOrEqualTo(ROUNDS);
        assertThat(deferred.socketFlushes()).isBetween((long) ROUNDS, ROUNDS + 2L);
        // and every byte arrived
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (CLIENT_BYTES.get() < 2L * 2 * ROUNDS * 100 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(CLIENT_BYTES.get()).isEqualTo(2L * 2 * ROUNDS * 100);
    }
}
