package io.h3relay.client.load;

import io.h3relay.client.Protocol;
import io.h3relay.client.RequestSpec;
import io.h3relay.client.Target;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The run's clock and budget, shared by every driver (so thread-safe): which requests are warm-up,
 * which are counted, and when to stop.
 *
 * <pre>
 *   t0 ──── warm-up (sent, not counted) ──── warmEnd ──── counted ──── end (or N counted requests)
 * </pre>
 * A request is counted when it is sent (open model: due) at or after warmEnd; it is then recorded
 * when it ends, however late, so {@code -n N} counts exactly N.
 */
final class LoadPlan {
    static final int WARM = 0;
    static final int COUNT = 1;
    static final int STOP = 2;

    private final LoadOptions options;
    private final long t0;
    private final long warmEnd;
    private final long end;
    private final long warmIndices;     // open model: requests due before warmEnd
    private final AtomicLong budget;    // closed model with -n: counted requests left
    private final CountDownLatch finished;

    LoadPlan(LoadOptions options, long t0) {
        this.options = options;
        this.t0 = t0;
        this.warmEnd = t0 + options.warmup().toNanos();
        this.end = options.requests() > 0 ? Long.MAX_VALUE : warmEnd + options.duration().toNanos();
        this.warmIndices = (long) Math.ceil(options.warmup().toNanos() / 1e9 * options.rate());
        this.budget = new AtomicLong(options.requests());
        this.finished = new CountDownLatch(options.connections());
    }

    long warmEnd() {
        return warmEnd;
    }

    /** The end of a timed run's window (Long.MAX_VALUE for -n). */
    long end() {
        return end;
    }

    CountDownLatch finished() {
        return finished;
    }

    void driverFinished() {
        finished.countDown();
    }

    boolean openModel() {
        return options.openModel();
    }

    int connections() {
        return options.connections();
    }

    RequestSpec request() {
        return options.request();
    }

    Target target() {
        return options.request().target();
    }

    Protocol protocol() {
        return options.protocol();
    }

    int slots(Protocol negotiated) {
        return options.slots(negotiated);
    }

    long timeoutNanos() {
        return options.timeout().toNanos();
    }

    boolean counting(long now) {
        return now >= warmEnd && now < end;
    }

    /** Closed loop: may a request go now, and does it count? Takes one from the budget when it counts. */
    int admitClosed(long now) {
        if (now >= end) {
            return STOP;
        }
        if (now < warmEnd) {
            return WARM;
        }
        if (options.requests() > 0) {
            return budget.getAndDecrement() > 0 ? COUNT : STOP;
        }
        return COUNT;
    }

    /** Like {@link #admitClosed} without taking from the budget: is the run over for this driver? */
    int admitClosedPeek(long now) {
        if (now >= end || (options.requests() > 0 && now >= warmEnd && budget.get() <= 0)) {
            return STOP;
        }
        return now < warmEnd ? WARM : COUNT;
    }

    /** Open model: when request {@code j} of the whole run is due. */
    long intendedNanos(long j) {
        return t0 + (long) (j * 1e9 / options.rate());
    }

    /** Open model: is request {@code j} (due at {@code at}) warm-up, counted, or past the end? */
    int admitOpen(long j, long at) {
        if (j < warmIndices) {
            return WARM;
        }
        if (options.requests() > 0) {
            return j < warmIndices + options.requests() ? COUNT : STOP;
        }
        return at < end ? COUNT : STOP;
    }
}
