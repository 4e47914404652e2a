package io.h3relay.cli;

import io.h3relay.config.RelayConfig;
import io.h3relay.server.RelayServer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code h3relay serve -c FILE}: run the proxy from a config file until SIGTERM. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the proxy with a config file; SIGHUP reloads it, SIGTERM drains and exits 0.")
final class ServeCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "The YAML config file.")
    Path file;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        RelayConfig config = ConfigLoading.loadOrReport(file, spec.commandLine().getErr());
        if (config == null) {
            return 1;
        }
        RelayServer server = ServerRunner.start(config, file, spec.commandLine().getErr());
        if (server == null) {
            return 1;
        }
        return ServerRunner.runUntilStopped(server);
    }
}
