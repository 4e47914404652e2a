package io.h3relay.telemetry;

import io.h3relay.config.ObservabilityConfig;
import io.h3relay.exchange.ExchangeObserver;
import io.h3relay.exchange.ExchangeView;
import io.netty.channel.Channel;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.internal.PlatformDependent;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.LongAdder;

/**
 * The access log: one line per exchange, JSON or text, to stdout, stderr or a file. Like nginx's buffered
 * {@code access_log}, each event loop formats its lines into a buffer of its own, while the exchange's values
 * are still in that core's cache (formatting them on another thread cost about 1 µs a line, mostly cache
 * misses). A buffer goes to one writer thread when it holds {@link #HANDOFF_BYTES} or its oldest line is
 * {@link #FLUSH_MILLIS} old; the writer does the I/O, one write call per buffer, so an event loop never
 * blocks. Buffers return to the loops through a free list. When the writer falls {@link #MAX_PENDING}
 * buffers behind, a loop drops its buffer's lines and counts them. {@link #close} writes every line.
 *
 * <pre>
 *   event loop 1 ──format──► [ buffer ] ─┐
 *   event loop 2 ──format──► [ buffer ] ─┴─hand off─► [ pending ] ──► writer thread ──► stdout | stderr | file
 * </pre>
 * Lines of different event loops interleave a buffer at a time, so the output is in time order per loop.
 */
final class AccessLog implements AutoCloseable {
    static final int HANDOFF_BYTES = 256 * 1024;
    static final long FLUSH_MILLIS = 100;
    static final int MAX_PENDING = 64;
    private static final int MAX_FREE = 8;
    private static final long IDLE_PARK_MILLIS = 50;

    private final Queue<LineBuffer> pending = PlatformDependent.newFixedMpscQueue(MAX_PENDING);
    private final Queue<LineBuffer> free = new ConcurrentLinkedQueue<>();
    private final Set<LoopBuffer> loopBuffers = ConcurrentHashMap.newKeySet();
    private final FastThreadLocal<LoopBuffer> local = new FastThreadLocal<>();
    private final OutputStream out;
    private final boolean ownsStream;
    private final boolean json;
    private final Thread writer;
    private final LongAdder dropped = new LongAdder();
    /** Set first by {@link #close}: later lines are dropped (counted). */
    private volatile boolean closed;
    /** Set once every loop's buffer is handed off: the writer stops when nothing is pending. */
    private volatile boolean stopWriter;

    AccessLog(OutputStream out, boolean ownsStream, boolean json) {
        this.out = out;
        this.ownsStream = ownsStream;
        this.json = json;
        this.writer = new Thread(this::run, "h3relay-access-log");
        this.writer.setDaemon(true); // close() drains it; a daemon cannot keep a crashed process alive
        this.writer.start();
    }

    /** Null when the access log is {@code off}; the file is opened (appending) now, so errors show at start. */
    static AccessLog open(ObservabilityConfig.AccessLog config) throws IOException {
        boolean json = "json".equals(config.format());
        return switch (config.path()) {
            case "off" -> null;
            case "stdout" -> new AccessLog(System.out, false, json);
            case "stderr" -> new AccessLog(System.err, false, json);
            // no BufferedOutputStream: the writer hands over whole buffers, one write call each
            default -> new AccessLog(Files.newOutputStream(Path.of(config.path()), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.APPEND), true, json);
        };
    }

    /** Lines dropped because the writer could not keep up (or the output failed). */
    long dropped() {
        return dropped.sum();
    }

    ExchangeObserver.Factory exchangeObservers() {
        return ExchangeObserver.Factory.shared(new ExchangeObserver() {
            @Override
            public void complete(ExchangeView exchange) {
                Channel ch = exchange.downstreamChannel();
                log(ch == null ? null : ch.eventLoop(), AccessLogEntry.of(exchange));
            }
        });
    }

    /** Formats the line on the calling event loop, into that loop's buffer. */
    void log(EventExecutor loop, AccessLogEntry entry) {
        if (closed) {
            dropped.increment();
            return;
        }
        if (loop == null || !loop.inEventLoop()) { // not on an event loop (never in the proxy): a buffer of its own
            LineBuffer one = new LineBuffer(512);
            format(entry, one);
            handOff(one);
            return;
        }
        LoopBuffer b = local.get();
        if (b == null) {
            b = new LoopBuffer(loop, takeFree());
            local.set(b);
            loopBuffers.add(b);
        }
        format(entry, b.lines);
        if (b.lines.length() >= HANDOFF_BYTES) {
            b.handOff();
        } else if (!b.flushScheduled) {
            b.flushScheduled = true;
            loop.schedule(b::timedFlush, FLUSH_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    private void format(AccessLogEntry entry, LineBuffer lines) {
        if (json) {
            entry.writeJson(lines);
        } else {
            entry.writeText(lines);
        }
        lines.ascii('\n');
        lines.lineWritten();
    }

    private LineBuffer takeFree() {
        LineBuffer b = free.poll();
        return b != null ? b : new LineBuffer(HANDOFF_BYTES + 4096);
    }

    /** Queues a filled buffer for the writer; when the writer is too far behind, its lines are counted lost. */
    private void handOff(LineBuffer lines) {
        if (pending.offer(lines)) {
            LockSupport.unpark(writer);
        } else {
            dropped.add(lines.lines());
            recycle(lines);
        }
    }

    private void recycle(LineBuffer lines) {
        lines.clear();
        if (lines.capacity() <= 4 * HANDOFF_BYTES && free.size() < MAX_FREE) {
            free.offer(lines);
        }
    }

    /** One event loop's buffer; only that loop touches it (and {@link #close} once the loop has stopped). */
    private final class LoopBuffer {
        final EventExecutor loop;
        LineBuffer lines;
        boolean flushScheduled;

        LoopBuffer(EventExecutor loop, LineBuffer lines) {
            this.loop = loop;
            this.lines = lines;
        }

        void handOff() {
            if (lines.length() > 0) {
                LineBuffer full = lines;
                lines = takeFree();
                AccessLog.this.handOff(full);
            }
        }

        void timedFlush() {
            flushScheduled = false;
            handOff();
        }
    }

    private void run() {
        boolean unflushed = false;
        for (;;) {
            boolean closing = stopWriter; // read before draining: what was handed off before is written
            LineBuffer lines = pending.poll();
            if (lines != null) {
                write(lines);
                recycle(lines);
                unflushed = true;
                continue;
            }
            if (unflushed) {
                flush();
                unflushed = false;
            }
            if (closing) {
                return;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(IDLE_PARK_MILLIS));
        }
    }

    private void write(LineBuffer lines) {
        try {
            out.write(lines.array(), 0, lines.length());
        } catch (IOException e) {
            // A full disk or a closed pipe must not stop the proxy; the lines are lost and counted.
            dropped.add(lines.lines());
        }
    }

    private void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            // counted with the write that failed, if any; nothing else to do
        }
    }

    /**
     * Hands off every event loop's buffer (on the loop itself while it still runs; directly once it has
     * stopped), writes every line, then stops the writer (bounded: 30 s).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (LoopBuffer b : loopBuffers) {
            if (b.loop.isTerminated()) {
                b.handOff();
            } else {
                try {
                    b.loop.submit(() -> {
                        b.handOff();
                        local.remove(); // a reload's new access log must not leave this one's buffer behind
                    }).awaitUninterruptibly(TimeUnit.SECONDS.toMillis(1));
                } catch (RejectedExecutionException e) {
                    b.handOff(); // shutting down: no task runs there any more
                }
            }
        }
        stopWriter = true;
        LockSupport.unpark(writer);
        try {
            writer.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (ownsStream) {
                out.close();
            } else {
                out.flush();
            }
        } catch (IOException e) {
            // nothing left to do: the process is stopping
        }
    }
}
