package io.h3relay.cli;

import io.h3relay.config.RelayConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code h3relay validate FILE}: every error at once, exit 1 when invalid, 0 when valid. */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = "Check a config file and print every error; exit 1 when invalid.")
final class ValidateCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "The YAML config file.")
    Path file;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        RelayConfig config = ConfigLoading.loadOrReport(file, spec.commandLine().getErr());
        if (config == null) {
            return 1;
        }
        spec.commandLine().getOut().printf("%s: valid (%d listener%s, %d route%s, %d cluster%s)%n", file,
                config.listeners().size(), plural(config.listeners().size()),
                config.routes().size(), plural(config.routes().size()),
                config.clusters().size(), plural(config.clusters().size()));
        spec.commandLine().getOut().flush();
        return 0;
    }

    private static String plural(int n) {
        return n == 1 ? "" : "s";
    }
}
