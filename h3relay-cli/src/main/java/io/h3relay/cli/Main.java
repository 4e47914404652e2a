package io.h3relay.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code h3relay}: the command-line entry point. Each subcommand is its own class. */
@Command(name = "h3relay",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "HTTP/3-first reverse proxy and edge gateway.",
        subcommands = {ServeCommand.class, ValidateCommand.class, DemoCommand.class, ProxyCommand.class,
                CertCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }
}
