package io.h3relay.cluster;

import io.h3relay.config.ClusterConfig;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Caps retries so that a failing cluster is not hit with a multiple of its normal load (the retry budget
 * of Finagle and Linkerd). Over a sliding window of {@link #WINDOW_SECONDS} seconds, retries may add up to
 * {@code percent} of the requests the cluster received, plus {@code min_retries_per_second} x the window
 * whatever the load, so that a lightly loaded cluster can still retry. A short burst of failures (an
 * endpoint dying) spends what steady traffic earned; a long total failure settles at {@code percent} extra
 * load. Without a {@code retry_budget} block: 20% and 10 per second.
 *
 * <p>Called from every event loop: one atomic increment per request; the window sum runs only when a
 * retry is wanted.
 */
public final class RetryBudget {
    static final ClusterConfig.RetryBudget DEFAULT = new ClusterConfig.RetryBudget(20, 10);
    static final int WINDOW_SECONDS = 10;

    private final int percent;
    private final int minPerSecond;
    /** Per second slot: which second it holds, requests and retries counted in it. */
    private final AtomicLongArray seconds = new AtomicLongArray(WINDOW_SECONDS);
    private final AtomicLongArray requests = new AtomicLongArray(WINDOW_SECONDS);
    private final AtomicLongArray retries = new AtomicLongArray(WINDOW_SECONDS);
    private final AtomicLong denied = new AtomicLong();

    RetryBudget(ClusterConfig.RetryBudget config) {
        ClusterConfig.RetryBudget c = config == null ? DEFAULT : config;
        this.percent = c.percent();
        this.minPerSecond = c.minRetriesPerSecond();
    }

    /** An exchange sends its first attempt to the cluster: it earns the budget {@code percent}/100 of a retry. */
    public void requestStarted() {
        requests.incrementAndGet(slot(now()));
    }

    /** True (and counted) when a retry may start now. */
    public synchronized boolean tryStartRetry() {
        long now = now();
        long windowRequests = 0;
        long windowRetries = 0;
        for (int i = 0; i < WINDOW_SECONDS; i++) {
            if (now - seconds.get(i) < WINDOW_SECONDS) {
                windowRequests += requests.get(i);
                windowRetries += retries.get(i);
            }
        }
        long allowance = (long) minPerSecond * WINDOW_SECONDS + windowRequests * percent / 100;
        if (windowRetries >= allowance) {
            denied.incrementAndGet();
            return false;
        }
        retries.incrementAndGet(slot(now));
        return true;
    }

    /** Retries the budget refused since start. */
    public long denied() {
        return denied.get();
    }

    private static long now() {
        return System.nanoTime() / 1_000_000_000L;
    }

    /** The slot of second {@code now}, emptied first when it still holds an older second. */
    private int slot(long now) {
        int i = (int) Math.floorMod(now, (long) WINDOW_SECONDS);
        long held = seconds.get(i);
        if (held != now && seconds.compareAndSet(i, held, now)) {
            // Counts racing this reset may be lost: the budget is an estimate, not an invariant.
            requests.set(i, 0);
            retries.set(i, 0);
        }
        return i;
    }
}
