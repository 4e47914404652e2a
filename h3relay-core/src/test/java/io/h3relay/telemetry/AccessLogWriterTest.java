package io.h3relay.telemetry;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The access log's buffering: an event loop formats its lines into a buffer of its own, which reaches the output
 * in one write call when full or {@link AccessLog#FLUSH_MILLIS} after its first line; nothing is lost at close.
 */
class AccessLogWriterTest {
    private static AccessLogEntry entry(int i) {
        return new AccessLogEntry(1_700_000_000_000L + i, "plain", "http/1.1", InetAddress.getLoopbackAddress(),
                "GET", "localhost", "/n/" + i, "all", 200, 0, 14, 250, "127.0.0.1:9000", 1, "id" + i, null, null, "http/1.1");
    }

    @Test
    void linesLeaveInOneWritePerBufferAndNoneAreLost() throws Exception {
        AtomicInteger writes = new AtomicInteger();
        ByteArrayOutputStream sink = new ByteArrayOutputStream() {
            @Override
            public synchronized void write(byte[] b, int off, int len) {
                writes.incrementAndGet();
                super.write(b, off, len);
            }
        };
        AccessLog log = new AccessLog(sink, true, true);
        EventLoop loop = new DefaultEventLoop();
        try {
            // One line alone is written within the flush interval (tail -f sees it), in one write.
            loop.submit(() -> log.log(loop, entry(0))).sync();
            await().atMost(Duration.ofSeconds(2)).until(() -> sink.size() > 0);
            assertThat(writes.get()).isEqualTo(1);

            // A burst on the loop: one write per full buffer, not per line.
            int lines = 4_000;
            loop.submit(() -> {
                for (int i = 1; i <= lines; i++) {
                    log.log(loop, entry(i));
                }
            }).sync();
            log.close(); // hands off the loop's last buffer while the loop still runs
            String[] written = sink.toString(StandardCharsets.UTF_8).split("\n");
            assertThat(written).hasSize(lines + 1);
            assertThat(written[lines]).contains("\"path\":\"/n/" + lines + "\"");
            assertThat(log.dropped()).isZero();
            int bytes = sink.size();
            assertThat(writes.get()).isLessThanOrEqualTo(2 + bytes / AccessLog.HANDOFF_BYTES + 1)
                    .isLessThan(lines / 20);
            // After close, lines are counted as dropped, not written.
            loop.submit(() -> log.log(loop, entry(-1))).sync();
            assertThat(log.dropped()).isEqualTo(1);
            assertThat(sink.size()).isEqualTo(bytes);
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
