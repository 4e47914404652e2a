package io.h3relay.telemetry;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The access log's writer thread: lines that trickle in (as under steady load) leave in few write calls, not
 * one per line or per few lines, and every line queued before close is written.
 */
class AccessLogWriterTest {
    @Test
    void batchesTricklingLinesIntoFewWritesAndLosesNone() throws Exception {
        AtomicInteger writes = new AtomicInteger();
        ByteArrayOutputStream sink = new ByteArrayOutputStream() {
            @Override
            public synchronized void write(byte[] b, int off, int len) {
                writes.incrementAndGet();
                super.write(b, off, len);
            }
        };
        AccessLog log = new AccessLog(sink, true, true);
        InetAddress client = InetAddress.getLoopbackAddress();
        int lines = 4_000;
        long start = System.nanoTime();
        for (int i = 0; i < lines; i++) {
            log.log(new AccessLogEntry(1_700_000_000_000L + i, "plain", "http/1.1", client, "GET", "localhost",
                    "/n/" + i, "all", 200, 0, 14, 250, "127.0.0.1:9000", 1, "id" + i, null, null));
            long next = start + (i + 1) * 25_000L; // one line every 25 µs: 40,000 lines/s
            while (System.nanoTime() < next) {
                Thread.onSpinWait();
            }
        }
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        log.close();

        String[] written = sink.toString(StandardCharsets.UTF_8).split("\n");
        assertThat(written).hasSize(lines);
        assertThat(written[lines - 1]).contains("\"path\":\"/n/" + (lines - 1) + "\"");
        assertThat(log.dropped()).isZero();
        // The writer sleeps IDLE_PARK_MILLIS once caught up, so it writes at most once per sleep (plus the
        // final drain at close); writing whenever a line is there would make hundreds of calls here.
        assertThat(writes.get()).isLessThanOrEqualTo((int) (elapsedMillis / AccessLog.IDLE_PARK_MILLIS) + 3)
                .isLessThan(lines / 20);
    }
}
