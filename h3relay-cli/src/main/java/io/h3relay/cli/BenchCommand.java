package io.h3relay.cli;

import io.h3relay.client.Protocol;
import io.h3relay.client.RequestFailure;
import io.h3relay.client.RequestSpec;
import io.h3relay.client.Target;
import io.h3relay.client.load.LoadOptions;
import io.h3relay.client.load.LoadResult;
import io.h3relay.client.load.LoadRun;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * {@code h3relay bench URL}: a load generator over h1, h2 and h3. Closed loop by default
 * ({@code -c} connections x {@code -m} streams always in flight); {@code --rate} switches to an open
 * model with coordinated-omission correction. Latency goes into an HdrHistogram.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Load-test an HTTP endpoint over HTTP/1.1, HTTP/2 or HTTP/3: req/s, bytes/s, latency "
                + "percentiles and errors by kind (text, or --json).",
        footerHeading = "%nExit codes:%n",
        footer = {"  0  every counted request succeeded (2xx/3xx)", "  2  usage error",
                "  3  cannot connect (nothing measured)", "  4  TLS/QUIC handshake failed (nothing measured)",
                "  7  a local file could not be read", "  8  the run finished, but some requests failed"})
final class BenchCommand implements Callable<Integer> {
    @Parameters(paramLabel = "URL", description = "http:// or https:// URL.")
    String url;

    @Mixin
    ClientFlags flags;

    @Option(names = {"-c", "--connections"}, paramLabel = "N", description = "Connections (default: ${DEFAULT-VALUE}).")
    int connections = 10;

    @Option(names = {"-m", "--streams"}, paramLabel = "N",
            description = "Concurrent requests per connection on h2/h3; h1 sends one at a time (default: ${DEFAULT-VALUE}).")
    int streams = 10;

    @Option(names = {"-n", "--requests"}, paramLabel = "N", description = "Send exactly N counted requests, then stop.")
    long requests;

    @Option(names = {"-d", "--duration"}, paramLabel = "TIME",
            description = "Run this long after the warm-up, e.g. 10s, 500ms, 1m (default: 10s unless -n).")
    String duration;

    @Option(names = "--rate", paramLabel = "R",
            description = "Open model: R requests/s in all, latency measured from when each was due.")
    double rate;

    @Option(names = "--warmup", paramLabel = "TIME", description = "Load before counting starts (default: 0s).")
    String warmup = "0s";

    @Option(names = "--data", paramLabel = "DATA|@FILE", description = "Request body (implies POST unless -X).")
    String data;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Event loop threads (default: the CPUs this process may use, at most -c).")
    int threads;

    @Option(names = "--timeout", paramLabel = "TIME", description = "Per request and per connect (default: ${DEFAULT-VALUE}).")
    String timeout = "10s";

    @Option(names = "--json", description = "Print the result as one JSON object.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final PrintStream stdout;
    private final PrintStream stderr;

    BenchCommand() {
        this(System.out, System.err);
    }

    BenchCommand(PrintStream stdout, PrintStream stderr) {
        this.stdout = stdout;
        this.stderr = stderr;
    }

    @Override
    public Integer call() throws Exception {
        CommandLine cli = spec.commandLine();
        Protocol protocol = flags.protocol(cli);
        Target target;
        try {
            target = Target.parse(url);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cli, e.getMessage());
        }
        ClientFlags.checkHttp3(cli, protocol, target);
        check(connections >= 1 && connections <= 100_000, "-c " + connections + " (expected: 1-100000)");
        check(streams >= 1 && streams <= 10_000, "-m " + streams + " (expected: 1-10000)");
        check(requests >= 0, "-n " + requests + " (expected: >= 0)");
        check(rate >= 0 && rate <= 10_000_000, "--rate " + rate + " (expected: 0-10000000)");
        check(threads >= 0 && threads <= 1024, "--threads " + threads + " (expected: 1-1024)");
        check(!(requests > 0 && duration != null), "give -n or -d, not both");
        Duration run = requests > 0 ? null : Durations.parse(cli, "-d", duration == null ? "10s" : duration);
        Duration warm = Durations.parse(cli, "--warmup", warmup);
        Duration perRequest = Durations.parse(cli, "--timeout", timeout);
        check(!perRequest.isZero(), "--timeout must be > 0");
        byte[] body;
        try {
            body = ClientFlags.body(data);
            if (flags.cacert != null && !Files.isReadable(flags.cacert)) {
                throw new IOException("--cacert " + flags.cacert + ": cannot read");
            }
        } catch (IOException e) {
            stderr.println("h3relay bench: " + e.getMessage());
            return ExitCodes.FILE;
        }
        int t = threads > 0 ? threads : Math.min(connections, Runtime.getRuntime().availableProcessors());
        body = flags.requestBody(body);
        LoadOptions options = new LoadOptions(new RequestSpec(flags.method(body), target, flags.requestHeaders(cli), body),
                protocol, connections, streams, requests, run, warm, rate, t, flags.tls(), perRequest);
        LoadResult result;
        try {
            result = LoadRun.run(options);
        } catch (RequestFailure f) {
            stderr.println("h3relay bench: no connection to " + target.origin() + ": " + f.getMessage());
            return ExitCodes.of(f.kind());
        }
        stdout.print(json ? BenchReport.json(options, result) : BenchReport.text(options, result));
        stdout.flush();
        return result.errorCount() == 0 && result.ok() > 0 ? ExitCodes.OK : ExitCodes.BENCH_ERRORS;
    }

    private void check(boolean ok, String message) {
        if (!ok) {
            throw new CommandLine.ParameterException(spec.commandLine(), message);
        }
    }
}
