package io.h3relay.proxy;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The clock of a long-lived stream: a WebSocket's tunnel ({@code limits.websocket_idle_timeout} without a
 * byte either way, {@code limits.max_websocket_duration} in all) or a streamed response such as SSE
 * ({@code limits.stream_idle_timeout} without a byte from the endpoint). One lazy timer, and traffic costs a
 * plain store: {@link #activity} only marks that bytes went by, without reading the clock (two
 * {@code System.nanoTime()} per WebSocket message were 40-80 ns each on this machine's kvm-clock). The timer
 * looks every sixteenth of the idle timeout: a look that finds the mark clears it and takes its own time as
 * the last activity, so the stream ends after between the idle timeout and 1/16 more of it without a byte.
 * The total duration is kept to the nanosecond.
 */
final class IdleClock {
    private final EventExecutor executor;
    private final long idleNanos;
    /** How often the timer looks at the mark: idle/16, at least 1 ms. */
    private final long periodNanos;
    private final String idleName;
    /** System.nanoTime() at which the stream ends whatever happens, or 0 without a limit. */
    private final long deadline;
    private final String maxName;
    private final Consumer<String> onExpiry;
    /** When the timer last found the mark set (or the clock started). */
    private long lastSeen;
    /** Bytes went by since the timer last looked. */
    private boolean active;
    private ScheduledFuture<?> timer;
    private boolean stopped;

    /** {@code maxNanos} 0: no overall limit. {@code onExpiry} gets why, naming the setting. */
    IdleClock(EventExecutor executor, long idleNanos, String idleName, long maxNanos, String maxName,
              Consumer<String> onExpiry) {
        this.executor = executor;
        this.idleNanos = idleNanos;
        this.periodNanos = Math.max(idleNanos / 16, TimeUnit.MILLISECONDS.toNanos(1));
        this.idleName = idleName;
        this.maxName = maxName;
        this.onExpiry = onExpiry;
        this.lastSeen = System.nanoTime();
        this.deadline = maxNanos > 0 ? lastSeen + maxNanos : 0;
        arm(lastSeen);
    }

    /** Bytes went by (a plain store: no clock read per message). */
    void activity() {
        active = true;
    }

    private void arm(long now) {
        long at = Math.min(lastSeen + idleNanos, now + periodNanos);
        if (deadline != 0 && deadline - at < 0) {
            at = deadline;
        }
        timer = executor.schedule(this::check, Math.max(0, at - now), TimeUnit.NANOSECONDS);
    }

    private void check() {
        timer = null;
        if (stopped) {
            return;
        }
        long now = System.nanoTime();
        if (active) {
            active = false;
            lastSeen = now;
        }
        if (deadline != 0 && now - deadline >= 0) {
            stopped = true;
            onExpiry.accept(maxName + " reached");
        } else if (now - lastSeen >= idleNanos) {
            stopped = true;
            onExpiry.accept(idleName + ": no bytes for " + TimeUnit.NANOSECONDS.toMillis(idleNanos) + "ms");
        } else {
            arm(now);
        }
    }

    void cancel() {
        stopped = true;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
