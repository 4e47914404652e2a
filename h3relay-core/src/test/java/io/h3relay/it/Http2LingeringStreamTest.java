package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.h3relay.testing.TestEndpoint;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An h2 request answered before its upload is done (a 413 for a declared body over the limit): the client may
 * finish its upload and the stream then ends without a reset, as with nginx; only a client that keeps sending
 * past the linger budget (1 MiB) or goes quiet (2 s) gets RST_STREAM NO_ERROR. A NO_ERROR reset that arrives
 * while the client is still sending made curl 7.88 drop the 413 it had received ("stream error"), under load.
 * The client here is Netty's h2 codec with flow control (its encoder), so the server's windows are honoured.
 */
class Http2LingeringStreamTest {
    private static TestEndpoint endpoint;
    private static RelayHarness relay;
    private static EventLoopGroup group;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start("lingering");
        relay = RelayHarness.singleCluster(endpoint.address(), "{ max_request_body_size: 1KiB }");
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        relay.close();
        endpoint.close();
    }

    private static Http2Headers post(long contentLength) {
        return new DefaultHttp2Headers().method("POST").path("/upload").scheme("http").authority("localhost")
                .setLong("content-length", contentLength);
    }

    /** Opens stream {@code id} with a POST head (no END_STREAM) and waits for the relay's whole 413. */
    private static void postAnsweredWith413(H2Raw c, int id, long contentLength) throws Exception {
        c.write((w, ctx) -> {
            c.h2.encoder().writeHeaders(ctx, id, post(contentLength), 0, false, ctx.newPromise());
            c.h2.flush(ctx);
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> c.ended.containsKey(id));
        assertThat(c.statuses.get(id)).isEqualTo(413);
    }

    private static void upload(H2Raw c, int id, int bytes, boolean end) throws Exception {
        c.write((w, ctx) -> {
            for (int left = bytes; left > 0; left -= 16 * 1024) {
                int n = Math.min(left, 16 * 1024);
                c.h2.encoder().writeData(ctx, id, Unpooled.wrappedBuffer(new byte[n]), 0, end && left == n,
                        ctx.newPromise());
            }
            c.h2.flush(ctx); // the codec's flush writes what its flow controller holds (the context's would not)
        });
    }

    @Test
    void aClientThatFinishesItsUploadAfterTheAnswerGetsNoReset() throws Exception {
        try (H2Raw c = H2Raw.connect(group, relay.plainPort(), true, null)) {
            postAnsweredWith413(c, 1, 4096);
            upload(c, 1, 4096, true);
            // a second request on the connection, answered at once: the relay read past the first's upload
            postAnsweredWith413(c, 3, 4096);
            upload(c, 3, 4096, true);
            // the linger timer (2 s) would have reset a stream it still held
            Thread.sleep(2_500);
            assertThat(c.resets).as("RST_STREAM per stream").isEmpty();
            assertThat(c.goAway.isDone()).isFalse();
            assertThat(c.ch.isActive()).isTrue();
        }
    }

    @Test
    void aClientThatGoesQuietIsResetWithNoErrorAfterTheLinger() throws Exception {
        try (H2Raw c = H2Raw.connect(group, relay.plainPort(), true, null)) {
            long t0 = System.nanoTime();
            postAnsweredWith413(c, 1, 4096);
            await().atMost(Duration.ofSeconds(10)).until(() -> c.resets.containsKey(1));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(c.resets.get(1)).isEqualTo(Http2Error.NO_ERROR.code());
            assertThat(ms).as("reset after the 2 s linger").isGreaterThanOrEqualTo(1_900L);
            assertThat(c.ch.isActive()).isTrue();
        }
    }

    @Test
    void aClientThatKeepsSendingPastTheBudgetIsResetWithNoError() throws Exception {
        try (H2Raw c = H2Raw.connect(group, relay.plainPort(), true, null)) {
            postAnsweredWith413(c, 1, 4L << 20);
            upload(c, 1, 4 << 20, true); // 4 MiB, flow-controlled: the relay reads and drops 1 MiB of it
            await().atMost(Duration.ofSeconds(10)).until(() -> c.resets.containsKey(1));
            assertThat(c.resets.get(1)).isEqualTo(Http2Error.NO_ERROR.code());
            assertThat(c.ch.isActive()).isTrue();
        }
    }
}
