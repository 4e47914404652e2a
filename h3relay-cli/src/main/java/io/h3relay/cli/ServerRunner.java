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

    /** Blocks until the server stopped; a signal starts the drain from the JVM's shutdown hook. */
    static int runUntilStopped(RelayServer server) {
        Thread hook = new Thread(() -> {
            LOG.info("signal received: draining for up to {}", server.config().shutdown().drainTimeout());
            server.stop();
            LOG.info("stopped");
        }, "h3relay-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        server.awaitStopped();
        return 0;
    }
}
