package io.h3relay.telemetry;

import io.h3relay.config.ObservabilityConfig;
import io.h3relay.proxy.ExchangeObserver;
import io.h3relay.proxy.ExchangeView;
import io.netty.util.internal.PlatformDependent;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.LongAdder;

/**
 * The access log: one line per exchange, JSON or text, to stdout, stderr or a file. Event loops only put
 * an {@link AccessLogEntry} in a bounded lock-free queue (never blocking: when the writer falls
 * {@link #CAPACITY} lines behind, lines are dropped and counted); one writer thread formats them and writes
 * each batch with one write call. The writer is never woken per line: once it has caught up it sleeps
 * {@link #IDLE_PARK_MILLIS} (so a line reaches the output within about that), and only when a batch of
 * {@link #BATCH} lines was full does it go on at once. {@link #close} writes everything still queued.
 *
 * <pre>
 *   event loops ──offer──► [ queue ] ──drain──► writer thread ──► stdout | stderr | file
 * </pre>
 */
final class AccessLog implements AutoCloseable {
    static final int CAPACITY = 64 * 1024;
    private static final int BATCH = 1024;
    static final long IDLE_PARK_MILLIS = 5;

    private final Queue<AccessLogEntry> queue = PlatformDependent.newFixedMpscQueue(CAPACITY);
    private final OutputStream out;
    private final boolean ownsStream;
    private final boolean json;
    private final Thread writer;
    private final LongAdder dropped = new LongAdder();
    private volatile boolean closed;

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
            default -> {
                Path file = Path.of(config.path());
                // no BufferedOutputStream: the writer hands over whole batches, one write call each
                yield new AccessLog(Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.APPEND), true, json);
            }
        };
    }

    /** Lines dropped because the writer could not keep up. */
    long dropped() {
        return dropped.sum();
    }

    ExchangeObserver.Factory exchangeObservers() {
        return ExchangeObserver.Factory.shared(new ExchangeObserver() {
            @Override
            public void complete(ExchangeView exchange) {
                log(AccessLogEntry.of(exchange));
            }
        });
    }

    void log(AccessLogEntry entry) {
        if (closed || !queue.offer(entry)) {
            dropped.increment();
        }
    }

    private void run() {
        LineBuffer lines = new LineBuffer(BATCH * 320);
        for (;;) {
            boolean closing = closed; // read before draining: what was queued before close() is written
            int n = 0;
            lines.clear();
            AccessLogEntry e;
            while (n < BATCH && (e = queue.poll()) != null) {
                if (json) {
                    e.writeJson(lines);
                } else {
                    e.writeText(lines);
                }
                lines.ascii('\n');
                n++;
            }
            if (n > 0) {
                write(lines, n);
            }
            if (n == BATCH) {
                continue; // behind: go on at once
            }
            if (closing) {
                if (n == 0) {
                    return;
                }
            } else {
                // Caught up: sleep, and write what gathers meanwhile in one call. Writing as soon as a line
                // is there kept this thread busy under load with a write(2) every few lines, on the cores
                // the event loops need (on a 2-core machine: 4% fewer req/s to a file, 0.3% to /dev/null).
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(IDLE_PARK_MILLIS));
            }
        }
    }

    private void write(LineBuffer lines, int count) {
        try {
            out.write(lines.array(), 0, lines.length());
            out.flush();
        } catch (IOException e) {
            // A full disk or a closed pipe must not stop the proxy; the lines are lost and counted.
            dropped.add(count);
        }
    }

    /** Writes every line queued so far, then stops the writer (bounded: 30 s). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
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
