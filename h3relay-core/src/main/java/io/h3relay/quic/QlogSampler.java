package io.h3relay.quic;

import io.netty.handler.codec.quic.QLogConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Which new QUIC connections write a qlog file ({@code http3.qlog_dir}, {@code qlog_sample}, and the admin API's
 * {@code POST /quic/qlog}), and the disk cap ({@code qlog_max_size}). quiche writes each sampled connection's
 * events to {@code <dir>/<trace id>-<channel id>.qlog} as JSON-SEQ (qlog 0.3, what qvis loads) while the
 * connection lives. The cap is kept by deleting the oldest {@code .qlog} files of the folder before a new one is
 * started once the folder is over it, checked at most once a second; quiche cannot bound one file, so the
 * folder can exceed the cap by what the connections being logged write meanwhile. A folder whose files cannot
 * be brought under the cap gets no new ones.
 */
public final class QlogSampler {
    private static final Logger LOG = LoggerFactory.getLogger(QlogSampler.class);

    private final Path dir;
    private final long maxBytes;
    private final String title;
    private volatile boolean enabled;
    private volatile double sample;
    private volatile long checkedAt;
    private volatile boolean full;
    private final AtomicLong started = new AtomicLong();

    /** {@code dir} null: never (and {@link #set} refuses). */
    public QlogSampler(Path dir, double sample, long maxBytes, String listener) throws IOException {
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.sample = sample;
        this.enabled = dir != null && sample > 0;
        this.title = "h3relay listener " + listener;
        if (dir != null) {
            Files.createDirectories(dir);
        }
    }

    public boolean available() {
        return dir != null;
    }

    public synchronized void set(boolean enabled, double sample) {
        if (dir == null) {
            throw new IllegalStateException("no http3.qlog_dir");
        }
        this.enabled = enabled;
        this.sample = sample;
    }

    public boolean enabled() {
        return enabled;
    }

    public double sample() {
        return sample;
    }

    public Path dir() {
        return dir;
    }

    public long maxBytes() {
        return maxBytes;
    }

    /** qlog files started so far. */
    public long started() {
        return started.get();
    }

    /** For a new connection: where to write its qlog, or null (not sampled, off, or the folder is full). */
    public QLogConfiguration next() {
        if (!enabled) {
            return null;
        }
        double s = sample;
        if (s < 1 && ThreadLocalRandom.current().nextDouble() >= s) {
            return null;
        }
        long now = System.nanoTime();
        if (now - checkedAt > 1_000_000_000L) {
            checkedAt = now;
            full = !makeRoom();
        }
        if (full) {
            return null;
        }
        started.incrementAndGet();
        // A folder: Netty names the file after the connection (trace id and channel id).
        return new QLogConfiguration(dir.toString(), title, "one QUIC connection");
    }

    /** Deletes the oldest qlog files until the folder is under the cap; false when it cannot be. */
    private boolean makeRoom() {
        List<Path> files = new ArrayList<>();
        long total = 0;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.getFileName().toString().endsWith(".qlog") && Files.isRegularFile(p)) {
                    files.add(p);
                    total += Files.size(p);
                }
            }
            if (total <= maxBytes) {
                return true;
            }
            files.sort(Comparator.comparing(QlogSampler::modified));
            for (Path p : files) {
                if (total <= maxBytes * 8 / 10) {
                    break;
                }
                long size = Files.size(p);
                Files.deleteIfExists(p);
                total -= size;
            }
            return total <= maxBytes;
        } catch (IOException | RuntimeException e) {
            LOG.warn("http3.qlog_dir {}: {}", dir, e.toString());
            return false;
        }
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }
}
