package io.h3relay.telemetry;

import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.FastThreadLocalThread;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Counting cells for the per-request metrics, one copy ("shard") per event loop, summed when scraped (as
 * Envoy keeps per-worker stats). An event loop adds to its own shard with plain stores: no atomic
 * instruction and no cache line shared with another core per request. (The Prometheus client's counters
 * are {@code LongAdder}s and every histogram observation increments one shared {@code AtomicLong}; on h2,
 * where both event loops serve streams of the same series, those lines moved between the cores.)
 *
 * <p>A cell is a {@code long} identified by an index from {@link #allocate}. Netty threads (event loops)
 * each get a shard of their own on first use; any other thread adds to one shared shard under its lock. A
 * shard only grows. A scrape reads each cell with an opaque read: it sees the cell's latest or a slightly
 * older value, never a torn one, and counters never go back.
 */
final class ShardedCells {
    private static final VarHandle CELL = MethodHandles.arrayElementVarHandle(long[].class);

    private final Shard shared = new Shard(true);
    private final List<Shard> shards = new CopyOnWriteArrayList<>(List.of(shared));
    private final FastThreadLocal<Shard> local = new FastThreadLocal<>() {
        @Override
        protected Shard initialValue() {
            if (!(Thread.currentThread() instanceof FastThreadLocalThread)) {
                return shared; // a test or a JDK thread: bounded in number of shards, not in threads
            }
            Shard s = new Shard(false);
            shards.add(s);
            return s;
        }
    };
    private int allocated;

    /** Reserves {@code n} consecutive cells (at 0) and returns the first one's index. */
    synchronized int allocate(int n) {
        int first = allocated;
        allocated += n;
        return first;
    }

    /** The calling thread's shard; fetch it once per event and add to it. */
    Shard shard() {
        return local.get();
    }

    /** The sum of a cell over all shards. */
    long sum(int cell) {
        long sum = 0;
        for (Shard s : shards) {
            sum += s.get(cell);
        }
        return sum;
    }

    /** Sums {@code out.length} consecutive cells from {@code first} into {@code out}. */
    void sum(int first, long[] out) {
        Arrays.fill(out, 0);
        for (Shard s : shards) {
            for (int i = 0; i < out.length; i++) {
                out[i] += s.get(first + i);
            }
        }
    }

    static final class Shard {
        private final boolean locked;
        private volatile long[] cells = new long[64];

        private Shard(boolean locked) {
            this.locked = locked;
        }

        void add(int cell, long delta) {
            if (locked) {
                synchronized (this) {
                    addUnshared(cell, delta);
                }
            } else {
                addUnshared(cell, delta);
            }
        }

        /** Only the owning thread (or the lock's holder) writes; the opaque store is a plain one on x86. */
        private void addUnshared(int cell, long delta) {
            long[] c = cells;
            if (cell >= c.length) {
                c = Arrays.copyOf(c, Math.max(c.length * 2, cell + 1));
                cells = c; // a scrape reads the old array until here: a moment behind, never wrong
            }
            CELL.setOpaque(c, cell, c[cell] + delta);
        }

        private long get(int cell) {
            long[] c = cells;
            return cell < c.length ? (long) CELL.getOpaque(c, cell) : 0;
        }
    }
}
