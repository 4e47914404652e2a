package io.h3relay.quic;

import io.h3relay.config.QuicKeyFiles;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.SslSessionTicketKey;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The TLS session ticket keys of one listener's QUIC contexts: every UDP socket of the listener shares them
 * (they all use the same contexts), so a ticket issued on one socket resumes on any other. Without a file
 * the keys are random and rotate every {@code rotation}: a new key encrypts from then on and the previous
 * one still decrypts for one more period, so a ticket is accepted for between one and two periods. With
 * {@code http3.ticket_key_file} the file's keys are used as they are (first encrypts, all decrypt) and the
 * file is read again when its modification time changes (checked every 10 s): several instances given the
 * same file resume each other's sessions, and whoever writes the file rotates them.
 */
public final class TicketKeys {
    private static final Logger LOG = LoggerFactory.getLogger(TicketKeys.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path file;
    private final Duration rotation;
    private volatile SslSessionTicketKey[] keys;
    private volatile List<QuicSslContext> contexts = List.of();
    private FileTime fileTime;
    private ScheduledFuture<?> timer;
    private volatile long rotations;

    public TicketKeys(Path file, Duration rotation) throws IOException {
        this.file = file;
        this.rotation = rotation;
        if (file != null) {
            fileTime = Files.getLastModifiedTime(file);
            keys = fromFile(file);
        } else {
            keys = new SslSessionTicketKey[] {random()};
        }
    }

    /** New contexts (start, or a reload's new certificate): they get the current keys, and later rotations. */
    public synchronized void use(List<QuicSslContext> next) {
        contexts = List.copyOf(next);
        apply();
    }

    /** Starts the rotation (or file watch) on {@code executor}. */
    public synchronized void start(EventExecutor executor) {
        if (timer != null) {
            return;
        }
        if (file == null) {
            long period = rotation.toMillis();
            timer = executor.scheduleAtFixedRate(this::rotate, period, period, TimeUnit.MILLISECONDS);
        } else {
            timer = executor.scheduleWithFixedDelay(this::checkFile, 10, 10, TimeUnit.SECONDS);
        }
    }

    public synchronized void stop() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** A new random key encrypts from now on; the one before it still decrypts. */
    public synchronized void rotate() {
        SslSessionTicketKey[] before = keys;
        keys = new SslSessionTicketKey[] {random(), before[0]};
        rotations++;
        apply();
    }

    /** Rotations (or file changes) applied so far. */
    public long rotations() {
        return rotations;
    }

    /** The name of the key new tickets are encrypted with (tests, introspection). */
    public byte[] currentKeyName() {
        return keys[0].name();
    }

    /** Reads the file again if it changed; a bad file keeps the keys in use (and says so in the log). */
    public synchronized void checkFile() {
        try {
            FileTime t = Files.getLastModifiedTime(file);
            if (t.equals(fileTime)) {
                return;
            }
            SslSessionTicketKey[] next = fromFile(file);
            fileTime = t;
            if (!Arrays.equals(next, keys)) {
                keys = next;
                rotations++;
                apply();
                LOG.info("http3 ticket keys: {} key(s) from {}", next.length, file);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("http3.ticket_key_file {}: keeping the keys in use: {}", file, e.getMessage());
        }
    }

    private void apply() {
        for (QuicSslContext c : contexts) {
            c.sessionContext().setTicketKeys(keys);
        }
    }

    private static SslSessionTicketKey[] fromFile(Path file) throws IOException {
        List<byte[]> raw = QuicKeyFiles.ticketKeys(file);
        SslSessionTicketKey[] out = new SslSessionTicketKey[raw.size()];
        for (int i = 0; i < out.length; i++) {
            byte[] k = raw.get(i);
            out[i] = new SslSessionTicketKey(Arrays.copyOfRange(k, 0, 16), Arrays.copyOfRange(k, 16, 32),
                    Arrays.copyOfRange(k, 32, 48));
        }
        return out;
    }

    private static SslSessionTicketKey random() {
        byte[] k = new byte[48];
        RANDOM.nextBytes(k);
        return new SslSessionTicketKey(Arrays.copyOfRange(k, 0, 16), Arrays.copyOfRange(k, 16, 32),
                Arrays.copyOfRange(k, 32, 48));
    }
}
