package io.h3relay.cli;

import io.h3relay.config.RelayConfig;
import io.h3relay.server.RelayServer;
import io.h3relay.server.StartException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;

/**
 * Runs a {@link RelayServer} in the foreground until SIGTERM / SIGINT, which drain it
 * ({@code shutdown.drain_delay}, then {@code shutdown.drain_timeout}) before the JVM exits 0.
 */
final class ServerRunner {
    private static final Logger LOG = LoggerFactory.getLogger("h3relay");

    private ServerRunner() {
    }

    private static final Object LOCK = new Object();
    /** The server the signal handlers act on, once started; a signal that came first waits in {@link #early}. */
    private static RelayServer current;
    private static String early;

    /**
     * Starts the server; returns null after printing why it could not start. SIGTERM/SIGINT are handled from
     * before the first bind, so one that arrives while the server starts is not lost (nor the JVM's default,
     * exit 143): it starts the drain as soon as the server is up.
     */
    static RelayServer start(RelayConfig config, PrintWriter err) {
        return start(config, null, err);
    }

    /**
     * As {@link #start(RelayConfig, PrintWriter)}, for a config read from {@code file}: SIGHUP reloads it
     * (validated whole; an invalid or restart-requiring file changes nothing and is logged).
     */
    static RelayServer start(RelayConfig config, java.nio.file.Path file, PrintWriter err) {
        LoggingSetup.configure(config.observability().logging().level(), config.observability().logging().format());
        handleSignals();
        RelayServer server;
        try {
            server = RelayServer.start(config, file);
        } catch (StartException e) {
            err.println("h3relay: cannot start: " + e.getMessage());
            err.flush();
            return null;
        }
        String pending;
        synchronized (LOCK) {
            current = server;
            pending = early;
        }
        if (pending != null) {
            onSignal(server, pending);
        }
        return server;
    }

    /**
     * Blocks until the server stopped. SIGTERM and SIGINT start a drain ({@code shutdown.drain_delay}, then
     * the drain proper); a second one cuts the delay short. Once the drain is done the command returns 0.
     * (A JVM shutdown hook alone would end the process with 143, which supervisors read as a failure, hence
     * the signal handlers.)
     */
    static int runUntilStopped(RelayServer server) {
        server.awaitStopped();
        LOG.info("stopped");
        return 0;
    }

    @SuppressWarnings("removal")
    private static void handleSignals() {
        sun.misc.SignalHandler handler = signal -> {
            RelayServer server;
            synchronized (LOCK) {
                server = current;
                if (server == null) {
                    early = signal.getName();
                    return;
                }
            }
            onSignal(server, signal.getName());
        };
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), handler);
            } catch (IllegalArgumentException e) {
                LOG.warn("cannot handle SIG{} on this platform", name);
            }
        }
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> {
                RelayServer server;
                synchronized (LOCK) {
                    server = current;
                }
                if (server == null) {
                    LOG.warn("SIGHUP received while starting: ignored (the config being started is the file's)");
                    return;
                }
                // The reload logs its outcome (applied, or why not) and counts it.
                server.reloads().reloadFile("SIGHUP");
            });
        } catch (IllegalArgumentException e) {
            LOG.warn("cannot handle SIGHUP on this platform: reload with POST /config/reload");
        }
    }

    private static void onSignal(RelayServer server, String name) {
        if (!server.startDrain("SIG" + name + " received") && server.skipDrainDelay()) {
            LOG.info("SIG{} received again: ending shutdown.drain_delay now", name);
        }
    }
}
