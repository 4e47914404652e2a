package io.h3relay.it;

import io.h3relay.testing.TestEndpoint;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The graceful h2 drain seen on the wire by a raw frame client: first GOAWAY with the largest stream id
 * (requests already sent are still taken), then GOAWAY with the last stream opened; the stream in flight
 * completes, then the connection closes.
 */
class Http2GoAwayTest {
    @Test
    void drainSendsTwoGoAwaysAndLetsTheOpenStreamFinish() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (TestEndpoint endpoint = TestEndpoint.start("goaway");
             RelayHarness relay = RelayHarness.singleCluster(endpoint.address(), "{}")) {
            List<long[]> goAways = new CopyOnWriteArrayList<>();
            AtomicInteger bodyBytes = new AtomicInteger();
            CompletableFuture<Void> streamEnded = new CompletableFuture<>();
            Http2FrameAdapter listener = new Http2FrameAdapter() {
                @Override
                public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debug) {
                    goAways.add(new long[] {lastStreamId, errorCode});
                }

                @Override
                public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding,
                                      boolean endOfStream) {
                    bodyBytes.addAndGet(data.readableBytes());
                    if (endOfStream) {
                        streamEnded.complete(null);
                    }
                    return data.readableBytes() + padding;
                }
            };
            Http2ConnectionHandler h2 = new Http2ConnectionHandlerBuilder().server(false).frameListener(listener).build();
            Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(h2)
                    .connect(new InetSocketAddress("127.0.0.1", relay.plainPort())).sync().channel();
            ChannelHandlerContext ctx = ch.pipeline().context(h2);
            Http2Headers h = new DefaultHttp2Headers().method("GET").path("/slow?chunks=8&interval=250&size=1000")
                    .scheme("http").authority("localhost");
            ch.eventLoop().submit(() -> {
                h2.encoder().writeHeaders(ctx, 1, h, 0, true, ctx.newPromise());
                ctx.flush();
            }).sync();
            await().atMost(Duration.ofSeconds(5)).until(() -> endpoint.requestCount() == 1);

            CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> relay.server().stop(Duration.ofSeconds(10)));
            await().atMost(Duration.ofSeconds(5)).until(() -> goAways.size() == 2);
            assertThat(goAways.get(0)).containsExactly(Integer.MAX_VALUE, Http2Error.NO_ERROR.code());
            assertThat(goAways.get(1)).containsExactly(1, Http2Error.NO_ERROR.code());

            streamEnded.get(10, TimeUnit.SECONDS);
            assertThat(bodyBytes.get()).isEqualTo(8000);
            assertThat(ch.closeFuture().await(5, TimeUnit.SECONDS)).as("closed after its last stream").isTrue();
            stopping.get(10, TimeUnit.SECONDS);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
