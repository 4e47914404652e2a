package io.h3relay.cli;

import io.h3relay.config.RelayConfig;
import io.h3relay.server.RelayServer;
import io.h3relay.server.StartException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;

/**
 * Runs a {@link RelayServer} in the foreground until SIGTERM / SIGINT, which drain it
 * ({@code shutdown.drain_timeout}) before the JVM exits 0.
 */
final class ServerRunner {
    private static final Logger LOG = LoggerFactory.getLogger("h3relay");

    private ServerRunner() {
    }

    /** Starts the server; returns null after printing why it could not start. */
    static RelayServer start(RelayConfig config, PrintWriter err) {
        LoggingSetup.configure(config.observability().logging().level(), config.observability().logging().format());
        try {
            return RelayServer.start(config);
        } catch (StartException e) {
            err.println("h3relay: cannot start: " + e.getMessage());
            err.flush();
            return null;
        }
    }

    /**
     * Blocks until the server stopped. SIGTERM and SIGINT start the drain; once it is done the command
     * returns 0. (A JVM shutdown hook alone would end the process with 143, which supervisors read as a
     * failure, hence the signal handlers.)
     */
    @SuppressWarnings("removal")
    static int runUntilStopped(RelayServer server) {
        sun.misc.SignalHandler drain = signal -> Thread.ofPlatform().name("h3relay-drain").start(() -> {
            LOG.info("SIG{} received: draining for up to {}", signal.getName(),
                    server.config().shutdown().drainTimeout());
            server.stop();
        });
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), drain);
            } catch (IllegalArgumentException e) {
                LOG.warn("cannot handle SIG{} on this platform", name);
            }
        }
        server.awaitStopped();
        LOG.info("stopped");
        return 0;
    }
}
