package io.h3relay.proxy;

import io.h3relay.config.LimitsConfig;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * The clocks of a tunnel (a WebSocket): {@code limits.websocket_idle_timeout} without a byte either way,
 * and {@code limits.max_websocket_duration} in all. One lazy timer: bytes only note the time (a plain
 * store on the event loop), and the timer, when it fires early, re-arms for what is left, so a busy
 * WebSocket costs no timer work per message (as {@code Http1Connection}'s idle timer).
 */
final class TunnelClock {
    private final Forwarding forwarding;
    private final long idleNanos;
    /** System.nanoTime() at which the tunnel ends whatever happens, or 0 without a limit. */
    private final long deadline;
    private long lastActivity;
    private ScheduledFuture<?> timer;

    TunnelClock(Forwarding forwarding, LimitsConfig limits) {
        this.forwarding = forwarding;
        this.idleNanos = limits.websocketIdleTimeout().toNanos();
        long max = limits.maxWebsocketDuration().toNanos();
        this.lastActivity = System.nanoTime();
        this.deadline = max > 0 ? lastActivity + max : 0;
        arm(lastActivity);
    }

    /** Bytes went one way or the other. */
    void activity() {
        lastActivity = System.nanoTime();
    }

    private void arm(long now) {
        long at = lastActivity + idleNanos;
        if (deadline != 0 && deadline < at) {
            at = deadline;
        }
        timer = forwarding.session.executor().schedule(this::check, Math.max(0, at - now), TimeUnit.NANOSECONDS);
    }

    private void check() {
        timer = null;
        if (forwarding.isFinished()) {
            return;
        }
        long now = System.nanoTime();
        if (deadline != 0 && now - deadline >= 0) {
            forwarding.closeTunnel("max_websocket_duration reached");
        } else if (now - lastActivity >= idleNanos) {
            forwarding.closeTunnel("websocket_idle_timeout: no bytes either way for "
                    + TimeUnit.NANOSECONDS.toMillis(idleNanos) + "ms");
        } else {
            arm(now);
        }
    }

    void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
