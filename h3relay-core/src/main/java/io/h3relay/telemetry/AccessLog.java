package io.h3relay.telemetry;

import io.h3relay.config.ObservabilityConfig;
import io.h3relay.proxy.ExchangeObserver;
import io.h3relay.proxy.ExchangeView;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The access log: one line per exchange, JSON or text, to stdout, stderr or a file. Event loops only put
 * an {@link AccessLogEntry} in a bounded queue (never blocking: when the writer falls {@link #CAPACITY}
 * lines behind, lines are dropped and counted); one writer thread formats and writes them in batches and
 * flushes whenever it has caught up. {@link #close} writes everything still queued.
 *
 * <pre>
 *   event loops ──offer──► [ queue ] ──drain──► writer thread ──► stdout | stderr | file
 * </pre>
 */
final class AccessLog implements AutoCloseable {
    static final int CAPACITY = 64 * 1024;
    private static final int BATCH = 1024;
    private static final AccessLogEntry END = new AccessLogEntry(0, null, null, null, null, null, null, null, 0, 0,
            0, 0, null, 0, null, null, null);

    private final BlockingQueue<AccessLogEntry> queue = new ArrayBlockingQueue<>(CAPACITY);
    private final OutputStream out;
    private final boolean ownsStream;
    private final boolean json;
    private final Thread writer;
    private final LongAdder dropped = new LongAdder();
    private volatile boolean closed;

    private AccessLog(OutputStream out, boolean ownsStream, boolean json) {
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
                yield new AccessLog(new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE, StandardOpenOption.APPEND), 64 * 1024), true, json);
            }
        };
    }

    /** Lines dropped because the writer could not keep up. */
    long dropped() {
        return dropped.sum();
    }

    ExchangeObserver.Factory exchangeObservers() {
        ExchangeObserver observer = new ExchangeObserver() {
            @Override
            public void complete(ExchangeView exchange) {
                log(AccessLogEntry.of(exchange));
            }
        };
        return () -> observer;
    }

    void log(AccessLogEntry entry) {
        if (closed || !queue.offer(entry)) {
            dropped.increment();
        }
    }

    private void run() {
        List<AccessLogEntry> batch = new ArrayList<>(BATCH);
        StringBuilder text = new StringBuilder(BATCH * 256);
        boolean end = false;
        while (!end) {
            try {
                AccessLogEntry first = queue.poll(1, TimeUnit.SECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, BATCH - 1);
                text.setLength(0);
                for (AccessLogEntry e : batch) {
                    if (e == END) {
                        end = true;
                        continue;
                    }
                    if (json) {
                        e.appendJson(text);
                    } else {
                        e.appendText(text);
                    }
                    text.append('\n');
                }
                batch.clear();
                write(text, queue.isEmpty() || end);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void write(CharSequence text, boolean flush) {
        try {
            out.write(text.toString().getBytes(StandardCharsets.UTF_8));
            if (flush) {
                out.flush();
            }
        } catch (IOException e) {
            // A full disk or a closed pipe must not stop the proxy; the lines are lost and counted.
            dropped.increment();
        }
    }

    /** Writes every line queued so far, then stops the writer (bounded: 30 s). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (!queue.offer(END, 30, TimeUnit.SECONDS)) {
                writer.interrupt();
            }
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
