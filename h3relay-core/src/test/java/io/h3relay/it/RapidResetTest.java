package io.h3relay.it;

import io.h3relay.testing.TestEndpoint;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * CVE-2023-44487 (rapid reset): a client that opens streams and resets them at once, over and over, is cut
 * off with GOAWAY after a bounded number of resets, instead of making the proxy start unbounded work.
 * The attacker is a raw HTTP/2 frame client over h2c prior knowledge.
 */
class RapidResetTest {
    @Test
    void endlessOpenAndResetEndsTheConnection() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (TestEndpoint endpoint = TestEndpoint.start("rapid-reset");
             RelayHarness relay = RelayHarness.singleCluster(endpoint.address(), "{}")) {
            CompletableFuture<Long> goAway = new CompletableFuture<>();
            Http2FrameAdapter listener = new Http2FrameAdapter() {
                @Override
                public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debug) {
                    goAway.complete(errorCode);
                }
            };
            Http2ConnectionHandler h2 = new Http2ConnectionHandlerBuilder().server(false).frameListener(listener).build();
            Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(h2)
                    .connect(new InetSocketAddress("127.0.0.1", relay.plainPort())).sync().channel();
            ChannelHandlerContext ctx = ch.pipeline().context(h2);

            // The bound is far above the proxy's limit (200 resets per 30 s) and the pacing below gives a slow
            // machine seconds to read and answer: the client stops because the proxy cut it off, not by luck.
            int bound = 20_000;
            int sent = 0;
            for (; sent < bound && ch.isActive() && !goAway.isDone(); sent++) {
                int id = 2 * sent + 1;
                Http2Headers h = new DefaultHttp2Headers().method("GET").path("/slow?chunks=50&interval=100")
                        .scheme("http").authority("localhost");
                ch.eventLoop().submit(() -> {
                    h2.encoder().writeHeaders(ctx, id, h, 0, true, ctx.newPromise());
                    h2.encoder().writeRstStream(ctx, id, Http2Error.CANCEL.code(), ctx.newPromise());
                    ctx.flush();
                }).sync();
                if (sent % 20 == 19) {
                    Thread.sleep(2); // let the proxy's answer (GOAWAY) arrive before the client floods on
                }
            }

            // Without the limit the connection would stay open and serve every stream.
            assertThat(ch.closeFuture().await(10, TimeUnit.SECONDS)).as("connection closed by the proxy").isTrue();
            if (goAway.isDone()) {
                // The GOAWAY may be lost to the TCP reset when the client is still writing; when it is read:
                assertThat(goAway.get()).isEqualTo(Http2Error.ENHANCE_YOUR_CALM.code());
            }
            assertThat(sent).isLessThan(bound);
            assertThat(endpoint.requestCount()).isLessThan(sent);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
