package io.h3relay.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.concurrent.TimeUnit;

/**
 * {@code admin.watch_config: true}: reloads when the config file changes. Watches the file's folder (editors
 * and ConfigMap updates replace the file rather than write it in place, and a watch on the file itself would
 * lose it), waits until the folder has been quiet for {@link #DEBOUNCE_MILLIS} (one save is several events),
 * then reloads if the text differs from the one last read. A daemon thread; {@link #close} ends it.
 */
final class ConfigWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);
    static final long DEBOUNCE_MILLIS = 300;

    private final WatchService watch;
    private final Thread thread;

    ConfigWatcher(Path file, ConfigReloads reloads) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        watch = FileSystems.getDefault().newWatchService();
        dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                StandardWatchEventKinds.ENTRY_DELETE);
        thread = Thread.ofPlatform().daemon().name("h3relay-config-watch").start(() -> run(reloads));
        LOG.info("watching {} for changes (admin.watch_config)", file);
    }

    private void run(ConfigReloads reloads) {
        try {
            while (true) {
                WatchKey key = watch.take();
                key.pollEvents();
                key.reset();
                // Debounce: wait for a quiet period, draining what else arrives meanwhile.
                WatchKey more;
                while ((more = watch.poll(DEBOUNCE_MILLIS, TimeUnit.MILLISECONDS)) != null) {
                    more.pollEvents();
                    more.reset();
                }
                try {
                    reloads.reloadFileIfChanged("config file changed");
                } catch (RuntimeException e) {
                    LOG.error("reload after a file change failed", e);
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        }
    }

    @Override
    public void close() {
        try {
            watch.close();
        } catch (IOException ignored) {
            // closing
        }
        thread.interrupt();
    }
}
