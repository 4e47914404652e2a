package io.h3relay.proxy;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.concurrent.Ticker;

import java.util.concurrent.TimeUnit;

/**
 * The default response-head timeout ({@link Forwarding#DEFAULT_RESPONSE_HEAD_TIMEOUT}) of one event loop's
 * exchanges, without a scheduled task per exchange (a task, a lambda and two heap operations on the loop's
 * timer queue per request showed in h1 profiles). Every wait has the same length, so exchanges join at the
 * tail in deadline order; one timer, armed for the oldest, serves them all, and an exchange whose response
 * head arrived unlinks itself in O(1).
 * <pre>
 *   oldest ◄─► ... ◄─► newest        timer: at the oldest's deadline (re-armed for the next oldest)
 * </pre>
 * Loop-confined: one per event-loop thread, used only from that loop ({@link #of} says null elsewhere, and the
 * caller schedules an ordinary task instead).
 */
final class ResponseHeadTimeouts {
    private static final FastThreadLocal<ResponseHeadTimeouts> PER_THREAD = new FastThreadLocal<>();

    private final EventExecutor executor;
    /** The executor's clock (a test's embedded loop advances its own), the one its scheduled tasks follow. */
    private final Ticker ticker;
    private final long timeoutNanos;
    private Forwarding oldest;
    private Forwarding newest;
    private ScheduledFuture<?> timer;

    ResponseHeadTimeouts(EventExecutor executor, long timeoutNanos) {
        this.executor = executor;
        this.ticker = executor.ticker();
        this.timeoutNanos = timeoutNanos;
    }

    /**
     * The list of {@code executor}, kept by its thread; null when not called on that thread. A thread that runs
     * several executors (embedded loops in tests) keeps the last one's: a list left behind still works on its
     * own (its exchanges point at it, its timer runs on its executor), it is only no longer handed out.
     */
    static ResponseHeadTimeouts of(EventExecutor executor) {
        if (!executor.inEventLoop()) {
            return null;
        }
        ResponseHeadTimeouts t = PER_THREAD.get();
        if (t == null || t.executor != executor) {
            t = new ResponseHeadTimeouts(executor, Forwarding.DEFAULT_RESPONSE_HEAD_TIMEOUT.toNanos());
            PER_THREAD.set(t);
        }
        return t;
    }

    void add(Forwarding f) {
        f.headDeadline = ticker.nanoTime() + timeoutNanos;
        f.headOlder = newest;
        f.headNewer = null;
        if (newest != null) {
            newest.headNewer = f;
        } else {
            oldest = f;
        }
        newest = f;
        f.headLinked = true;
        if (timer == null) {
            arm(f.headDeadline);
        }
    }

    /** The response head arrived, or the exchange ended. The timer stays: it finds the list shorter. */
    void remove(Forwarding f) {
        if (!f.headLinked) {
            return;
        }
        f.headLinked = false;
        if (f.headOlder != null) {
            f.headOlder.headNewer = f.headNewer;
        } else {
            oldest = f.headNewer;
        }
        if (f.headNewer != null) {
            f.headNewer.headOlder = f.headOlder;
        } else {
            newest = f.headOlder;
        }
        f.headOlder = null;
        f.headNewer = null;
    }

    private void arm(long deadline) {
        timer = executor.schedule(this::expire, Math.max(0, deadline - ticker.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void expire() {
        timer = null;
        long now = ticker.nanoTime();
        Forwarding f;
        while ((f = oldest) != null && now - f.headDeadline >= 0) {
            remove(f);
            f.responseHeadTimedOut();
        }
        if (oldest != null && timer == null) {
            arm(oldest.headDeadline);
        }
    }

    /** Exchanges waiting, for tests. */
    int size() {
        int n = 0;
        for (Forwarding f = oldest; f != null; f = f.headNewer) {
            n++;
        }
        return n;
    }
}
