package io.h3relay.cli;

import picocli.CommandLine;

import java.io.PrintStream;
import java.io.PrintWriter;
import picocli.CommandLine.Command;

/** {@code h3relay}: the command-line entry point. Each subcommand is its own class. */
@Command(name = "h3relay",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "HTTP/3-first reverse proxy and edge gateway.",
        subcommands = {ServeCommand.class, ValidateCommand.class, DemoCommand.class, ProxyCommand.class,
                CertCommand.class, RequestCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        return run(System.out, System.err, args);
    }

    /** Like {@link #run(String...)} with the given stdout and stderr (request and bench write bytes to stdout). */
    public static int run(PrintStream out, PrintStream err, String... args) {
        return commandLine(out, err).execute(args);
    }

    static CommandLine commandLine(PrintStream out, PrintStream err) {
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> type) throws Exception {
                if (type == RequestCommand.class) {
                    return type.cast(new RequestCommand(out, err));
                }
                if (type == BenchCommand.class) {
                    return type.cast(new BenchCommand(out, err));
                }
                return CommandLine.defaultFactory().create(type);
            }
        };
        // No @argument-files: `--data @FILE` means a request body from FILE, as in curl.
        CommandLine cli = new CommandLine(new Main(), factory).setCaseInsensitiveEnumValuesAllowed(true)
                .setExpandAtFiles(false);
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }
}
