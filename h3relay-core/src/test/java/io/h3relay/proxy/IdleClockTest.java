package io.h3relay.proxy;

import io.netty.channel.DefaultEventLoop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The lazy clock of a WebSocket or a streamed response: traffic only marks activity, the timer looks every
 * sixteenth of the idle timeout. A stream never ends before the idle timeout has passed without a byte, a
 * busy one is not ended for idleness, and the total duration ends it whatever the traffic.
 */
class IdleClockTest {
    private final DefaultEventLoop loop = new DefaultEventLoop();

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private static final long IDLE_MS = 400;

    @Test
    void endsOnlyAfterTheIdleTimeoutWithoutAByteSinceTheLastActivity() throws Exception {
        CompletableFuture<String> why = new CompletableFuture<>();
        long[] lastActivity = new long[1];
        IdleClock[] clock = new IdleClock[1];
        ScheduledFuture<?>[] traffic = new ScheduledFuture<?>[1];
        loop.submit(() -> {
            clock[0] = new IdleClock(loop, TimeUnit.MILLISECONDS.toNanos(IDLE_MS), "websocket_idle_timeout", 0, null,
                    w -> {
                        why.complete(w);
                    });
            // Bytes every 20 ms for 1.2 s (three idle timeouts), then silence.
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1200);
            traffic[0] = loop.scheduleAtFixedRate(() -> {
                if (System.nanoTime() - until < 0) {
                    clock[0].activity();
                    lastActivity[0] = System.nanoTime();
                } else {
                    traffic[0].cancel(false);
                }
            }, 0, 20, TimeUnit.MILLISECONDS);
        }).sync();
        String w = why.get(10, TimeUnit.SECONDS);
        long endedAfterLastByte = System.nanoTime() - lastActivity[0];
        assertThat(w).isEqualTo("websocket_idle_timeout: no bytes for " + IDLE_MS + "ms");
        assertThat(Duration.ofNanos(endedAfterLastByte)).as("never before the idle timeout after the last byte")
                .isGreaterThanOrEqualTo(Duration.ofMillis(IDLE_MS));
        assertThat(traffic[0].isCancelled()).as("not ended while bytes kept coming").isTrue();
    }

    @Test
    void theTotalDurationEndsABusyStream() throws Exception {
        CompletableFuture<String> why = new CompletableFuture<>();
        long[] started = new long[1];
        loop.submit(() -> {
            started[0] = System.nanoTime();
            IdleClock c = new IdleClock(loop, TimeUnit.SECONDS.toNanos(30), "websocket_idle_timeout",
                    TimeUnit.MILLISECONDS.toNanos(300), "max_websocket_duration", why::complete);
            loop.scheduleAtFixedRate(c::activity, 0, 10, TimeUnit.MILLISECONDS);
        }).sync();
        assertThat(why.get(10, TimeUnit.SECONDS)).isEqualTo("max_websocket_duration reached");
        assertThat(Duration.ofNanos(System.nanoTime() - started[0])).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    }
}
