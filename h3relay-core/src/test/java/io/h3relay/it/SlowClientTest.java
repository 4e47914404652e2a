package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.h3relay.client.ClientTls;
import io.h3relay.client.h3.QuicClients;
import io.h3relay.testing.TestEndpoint;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2FrameTypes;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.quic.DefaultQuicStreamFrame;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamResetException;
import io.netty.handler.codec.quic.QuicStreamType;
import io.netty.util.internal.PlatformDependent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Slow clients on h1, h2 and h3. Slow read: a client that asks for a 64 MiB response and takes none of it
 * is cut off once {@code send_timeout} passes (h1: close, h2: RST_STREAM, h3: stream reset), having got only
 * what fits in the buffers, and the proxy holds a bounded amount meanwhile (backpressure: the endpoint is
 * not read ahead). Slowloris: a head that never completes ends with {@code request_headers_timeout} (h1:
 * {@link LimitsTest}), an h2 header block kept open by a trickle of CONTINUATION frames ends the
 * connection, an h3 request stream whose HEADERS frame never completes is reset. The proxy serves normally
 * afterwards.
 */
@org.junit.jupiter.api.parallel.Isolated("measures the JVM's direct memory while a response is stalled")
class SlowClientTest {
    private static final long SIZE = 64L << 20;
    private static final String LIMITS = "{ send_timeout: 2s, request_headers_timeout: 2s }";

    private static TestEndpoint endpoint;
    private static RelayHarness relay;
    private static EventLoopGroup group;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start("slow");
        relay = RelayHarness.singleCluster(endpoint.address(), LIMITS);
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stop() {
        System.out.println("SlowClientTest: 4 slow-client vectors (h1 and h3 slow read, h2 and h3 head trickle); "
                + "h2 slow read: Http2AttackTest zero window; h1 slowloris: LimitsTest");
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        relay.close();
        endpoint.close();
    }

    /** Direct memory in use in this JVM (the proxy runs in it): Netty's pooled arenas or its own counter. */
    private static long directMemory() {
        return Math.max(0, PlatformDependent.usedDirectMemory())
                + PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
    }

    @Test
    void h1SlowReaderIsCutOffAfterSendTimeout() throws Exception {
        long before = directMemory();
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(4096);
            s.connect(new InetSocketAddress("127.0.0.1", relay.plainPort()));
            s.getOutputStream().write(("GET /bytes?n=" + SIZE + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            long stalled = System.nanoTime();
            // The client under test takes nothing for 4 s (twice send_timeout): not waiting for a condition.
            Thread.sleep(4000);
            long during = directMemory();
            s.setSoTimeout(10_000);
            long got = drain(s.getInputStream());
            System.out.printf("SlowClientTest: h1 slow read: got %d of %d bytes, direct memory +%d KiB%n", got, SIZE,
                    (during - before) >> 10);
            assertThat(got).as("cut off, not the whole response").isLessThan(SIZE / 4);
            assertThat(during - before).as("direct memory held for the stalled response").isLessThan(16L << 20);
            assertThat(System.nanoTime() - stalled).isLessThan(TimeUnit.SECONDS.toNanos(14));
        }
        Http2AttackTest.assertServesNormallyOn(relay, "endpoint slow");
    }

    /** Reads to EOF or reset; the bytes read. */
    private static long drain(InputStream in) {
        byte[] buf = new byte[64 * 1024];
        long n = 0;
        try {
            for (int r; (r = in.read(buf)) >= 0; ) {
                n += r;
            }
        } catch (IOException e) {
            // reset: the end as well
        }
        return n;
    }

    /**
     * A QUIC client whose stream window is 64 KiB (the shared test client's 4 MiB would take the proxy a while
     * to fill on a loaded machine, and a stall only counts once the window is full).
     */
    private static Channel smallWindowUdp() throws InterruptedException {
        var tls = ClientTls.trusting(RelayHarness.certs().caCert()).quic();
        var codec = Http3.newQuicClientCodecBuilder()
                .sslContext(tls)
                .sslEngineProvider(q -> tls.newEngine(q.alloc(), "localhost", relay.tlsPort()))
                .maxIdleTimeout(30_000, TimeUnit.MILLISECONDS)
                .initialMaxData(1 << 20)
                .initialMaxStreamDataBidirectionalLocal(64 << 10)
                .initialMaxStreamDataBidirectionalRemote(64 << 10)
                .initialMaxStreamsBidirectional(100)
                .initialMaxStreamsUnidirectional(100)
                .build();
        return QuicClients.bind(group, NioDatagramChannel.class, codec).sync().channel();
    }

    @Test
    void h3SlowReaderIsResetAfterSendTimeout() throws Exception {
        Channel udp = smallWindowUdp();
        QuicChannel quic = QuicChannel.newBootstrap(udp).handler(new Http3ClientConnectionHandler())
                .remoteAddress(new InetSocketAddress("localhost", relay.tlsPort())).connect().get(10, TimeUnit.SECONDS);
        try {
            AtomicLong received = new AtomicLong();
            AtomicBoolean fin = new AtomicBoolean();
            AtomicBoolean reset = new AtomicBoolean();
            QuicStreamChannel stream = quic.newStreamBootstrap().type(QuicStreamType.BIDIRECTIONAL)
                    .option(ChannelOption.AUTO_READ, false)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            received.addAndGet(((ByteBuf) msg).readableBytes());
                            ((ByteBuf) msg).release();
                        }

                        @Override
                        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                            if (evt instanceof ChannelInputShutdownReadComplete) {
                                fin.set(true);
                            }
                        }

                        @Override
                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                            if (cause instanceof QuicStreamResetException) {
                                reset.set(true);
                            }
                        }
                    }).create().get(5, TimeUnit.SECONDS);
            byte[] head = FieldBlocks.h3Frame(1, FieldBlocks.qpack(List.of(new String[] {":method", "GET"},
                    new String[] {":scheme", "https"}, new String[] {":authority", "localhost"},
                    new String[] {":path", "/bytes?n=" + SIZE})));
            stream.writeAndFlush(new DefaultQuicStreamFrame(Unpooled.wrappedBuffer(head), true)).sync();
            Thread.sleep(4000); // the client under test reads nothing for twice send_timeout
            long readWhileStalled = received.get();
            stream.config().setAutoRead(true);
            stream.read();
            System.out.printf("SlowClientTest: h3 slow read: %d bytes read while stalled%n", readWhileStalled);
            await().atMost(Duration.ofSeconds(30)).until(() -> reset.get() || fin.get() || !stream.isActive());
            System.out.printf("SlowClientTest: h3 slow read: got %d of %d bytes, reset=%s, fin=%s%n", received.get(),
                    SIZE, reset.get(), fin.get());
            assertThat(readWhileStalled).as("the client read nothing for 4 s").isZero();
            assertThat(reset.get()).as("ended by a reset").isTrue();
            assertThat(fin.get()).as("not a FIN").isFalse();
            assertThat(received.get()).isLessThan(SIZE / 4);
        } finally {
            QuicClients.close(quic, udp);
        }
        Http2AttackTest.assertServesNormallyOn(relay, "endpoint slow");
    }

    /**
     * An h2 header block kept open by one 9 KiB CONTINUATION frame a second: the connection is never
     * idle and no stream exists yet, so only a head timer ends it ({@code Http2HeaderBlockTimeout}).
     */
    @Test
    void h2HeaderBlockTrickleEndsWithTheHeadTimeout() throws Exception {
        try (H2Raw c = H2Raw.connect(group, relay.plainPort(), true, null)) {
            ByteArrayOutputStream first = new ByteArrayOutputStream();
            first.writeBytes(FieldBlocks.hpack(List.of(new String[] {":method", "GET"}, new String[] {":scheme", "http"},
                    new String[] {":authority", "localhost"}, new String[] {":path", "/"})));
            first.writeBytes(Http2AttackTest.literals(9 * 1024));
            byte[] head = first.toByteArray();
            c.write((w, ctx) -> c.frame(w, ctx, Http2FrameTypes.HEADERS, 1, new Http2Flags().endOfStream(true), head));
            // 9 KiB fragments, the HEADERS frame's too: not "small" (< 8 KiB), which Netty's reader ends at once;
            // Netty's reader bounds such a block only by size (1.25 x 96 KiB here: 13 frames), not by time.
            byte[] field = Http2AttackTest.literals(9 * 1024);
            long t0 = System.nanoTime();
            for (int i = 0; i < 10 && c.ch.isActive(); i++) { // 10 s at most
                c.write((w, ctx) -> c.frame(w, ctx, Http2FrameTypes.CONTINUATION, 1, new Http2Flags(), field));
                Thread.sleep(1000); // the trickle is the attack
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("SlowClientTest: h2 CONTINUATION trickle: closed=%s after %d ms, goaway %s, sent %d%n",
                    !c.ch.isActive(), ms, c.goAway.getNow(null), c.sent.get());
            assertThat(c.closedWithin(Duration.ofSeconds(2))).as("connection closed").isTrue();
            assertThat(c.goAway.isDone()).as("closed by the head timer (no GOAWAY), not by the codec").isFalse();
            assertThat(ms).as("closed after request_headers_timeout (2 s)").isBetween(1500L, 4000L);
        }
        Http2AttackTest.assertServesNormallyOn(relay, "endpoint slow");
    }

    /** An h3 request stream whose HEADERS frame never completes (a trickle of its bytes). */
    @Test
    void h3IncompleteHeadersFrameIsResetWithTheHeadTimeout() throws Exception {
        Channel udp = QuicClients.bind(group, NioDatagramChannel.class,
                QuicClients.codec(ClientTls.trusting(RelayHarness.certs().caCert()).quic())).sync().channel();
        QuicChannel quic = QuicChannel.newBootstrap(udp).handler(new Http3ClientConnectionHandler())
                .remoteAddress(new InetSocketAddress("localhost", relay.tlsPort())).connect().get(10, TimeUnit.SECONDS);
        try {
            AtomicBoolean ended = new AtomicBoolean();
            QuicStreamChannel stream = quic.createStream(QuicStreamType.BIDIRECTIONAL, new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ((ByteBuf) msg).release();
                }

                @Override
                public void channelInactive(ChannelHandlerContext ctx) {
                    ended.set(true);
                }

                @Override
                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                    ended.set(true); // the server reset the stream (RESET_STREAM / STOP_SENDING)
                }
            }).get(5, TimeUnit.SECONDS);
            byte[] full = FieldBlocks.h3Frame(1, FieldBlocks.qpack(List.of(new String[] {":method", "GET"},
                    new String[] {":scheme", "https"}, new String[] {":authority", "localhost"},
                    new String[] {":path", "/" + "a".repeat(200)})));
            long t0 = System.nanoTime();
            for (int i = 0; i < 40 && i < full.length - 1 && stream.isActive() && !ended.get(); i++) {
                if (!stream.writeAndFlush(Unpooled.wrappedBuffer(full, i, 1)).await().isSuccess()) {
                    ended.set(true); // STOP_SENDING from the server
                    break;
                }
                Thread.sleep(300); // the trickle is the attack
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            await().atMost(Duration.ofSeconds(3)).until(() -> ended.get() || !stream.isActive());
            System.out.printf("SlowClientTest: h3 HEADERS trickle: stream ended after %d ms%n", ms);
            assertThat(ms).as("ended after request_headers_timeout (2 s)").isBetween(1500L, 6000L);
        } finally {
            QuicClients.close(quic, udp);
        }
        Http2AttackTest.assertServesNormallyOn(relay, "endpoint slow");
    }
}
