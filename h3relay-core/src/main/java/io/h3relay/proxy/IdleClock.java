package io.h3relay.proxy;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The clock of a long-lived stream: a WebSocket's tunnel ({@code limits.websocket_idle_timeout} without a
 * byte either way, {@code limits.max_websocket_duration} in all) or a streamed response such as SSE
 * ({@code limits.stream_idle_timeout} without a byte from the endpoint). One lazy timer: traffic only notes
 * the time (a plain store on the event loop), and the timer, when it fires early, re-arms for what is
 * left, so a busy stream costs no timer work per message (as {@code Http1Connection}'s idle timer).
 */
final class IdleClock {
    private final EventExecutor executor;
    private final long idleNanos;
    private final String idleName;
    /** System.nanoTime() at which the stream ends whatever happens, or 0 without a limit. */
    private final long deadline;
    private final String maxName;
    private final Consumer<String> onExpiry;
    private long lastActivity;
    private ScheduledFuture<?> timer;
    private boolean stopped;

    /** {@code maxNanos} 0: no overall limit. {@code onExpiry} gets why, naming the setting. */
    IdleClock(EventExecutor executor, long idleNanos, String idleName, long maxNanos, String maxName,
              Consumer<String> onExpiry) {
        this.executor = executor;
        this.idleNanos = idleNanos;
        this.idleName = idleName;
        this.maxName = maxName;
        this.onExpiry = onExpiry;
        this.lastActivity = System.nanoTime();
        this.deadline = maxNanos > 0 ? lastActivity + maxNanos : 0;
        arm(lastActivity);
    }

    /** Bytes went by. */
    void activity() {
        lastActivity = System.nanoTime();
    }

    private void arm(long now) {
        long at = lastActivity + idleNanos;
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
        if (deadline != 0 && now - deadline >= 0) {
            stopped = true;
            onExpiry.accept(maxName + " reached");
        } else if (now - lastActivity >= idleNanos) {
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
