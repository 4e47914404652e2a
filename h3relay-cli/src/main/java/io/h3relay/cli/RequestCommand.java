package io.h3relay.cli;

import io.h3relay.client.ClientConnection;
import io.h3relay.client.ConnectionInfo;
import io.h3relay.client.Connector;
import io.h3relay.client.ErrorKind;
import io.h3relay.client.Protocol;
import io.h3relay.client.RequestFailure;
import io.h3relay.client.RequestSpec;
import io.h3relay.client.Target;
import io.h3relay.client.Transports;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code h3relay request URL...}: a curl-like client over h1, h2 and h3. Several URLs are fetched in
 * order, reusing a connection per origin and protocol; with {@code --alt-svc} an {@code h3} Alt-Svc
 * advertisement moves the next request to the same origin onto HTTP/3.
 */
@Command(name = "request", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Send HTTP requests over HTTP/1.1, HTTP/2 or HTTP/3 and print the responses.",
        footerHeading = "%nExit codes:%n",
        footer = {"  0  every response arrived whole (any status)", "  2  usage error", "  3  cannot connect",
                "  4  TLS/QUIC handshake failed", "  5  reset, closed before the end, or a malformed response",
                "  6  --max-time reached", "  7  a local file could not be read or written",
                "  9  --grpc: a call ended with a grpc-status other than 0 (OK), or none"})
final class RequestCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "URL", description = "http:// or https:// URL(s), fetched in order.")
    List<String> urls;

    @Mixin
    ClientFlags flags;

    @Option(names = "--alt-svc", description = "Follow an Alt-Svc h3 advertisement: later requests to the same origin use HTTP/3.")
    boolean altSvc;

    @Option(names = {"-d", "--data"}, paramLabel = "DATA|@FILE", description = "Request body (implies POST unless -X).")
    String data;

    @Option(names = {"-i", "--include"}, description = "Print the status line and headers before the body.")
    boolean include;

    @Option(names = {"-v", "--verbose"}, description = "Print protocol, TLS version and cipher, headers and timings to stderr.")
    boolean verbose;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the body to FILE instead of stdout.")
    Path output;

    @Option(names = "--max-time", paramLabel = "SECONDS", description = "Give up after this long in all (default: no limit).")
    double maxTime;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final PrintStream stdout;
    private final PrintStream stderr;

    RequestCommand() {
        this(System.out, System.err);
    }

    RequestCommand(PrintStream stdout, PrintStream stderr) {
        this.stdout = stdout;
        this.stderr = stderr;
    }

    @Override
    public Integer call() throws Exception {
        CommandLine cli = spec.commandLine();
        Protocol forced = flags.protocol(cli);
        var headers = flags.requestHeaders(cli);
        List<Target> targets = new ArrayList<>();
        for (String u : urls) {
            try {
                targets.add(Target.parse(u));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cli, e.getMessage());
            }
            ClientFlags.checkHttp3(cli, forced, targets.getLast());
        }
        if (maxTime < 0) {
            throw new CommandLine.ParameterException(cli, "--max-time " + maxTime + " (expected: seconds > 0)");
        }
        byte[] body;
        try {
            body = flags.requestBody(ClientFlags.body(data));
            if (flags.cacert != null && !Files.isReadable(flags.cacert)) {
                throw new IOException("--cacert " + flags.cacert + ": cannot read");
            }
        } catch (IOException e) {
            return fail(ExitCodes.FILE, e.getMessage());
        }
        if (body != null && headers.stream().noneMatch(h -> h.getKey().equalsIgnoreCase("content-type"))) {
            headers = new ArrayList<>(headers);
            headers.add(Map.entry("content-type", "application/x-www-form-urlencoded")); // as curl -d does
        }
        long deadline = maxTime > 0 ? System.nanoTime() + (long) (maxTime * 1e9) : Long.MAX_VALUE;
        Duration connectTimeout = Duration.ofMillis(maxTime > 0 ? Math.min(10_000, (long) (maxTime * 1000) + 1) : 10_000);
        Transports transports = Transports.detect();
        EventLoopGroup group = transports.newGroup(1, "h3relay-request");
        EventLoop loop = group.next();
        Connector connector = new Connector(flags.tls(), transports, connectTimeout);
        Map<String, ClientConnection> connections = new HashMap<>();
        Map<String, Integer> h3Ports = new HashMap<>();
        boolean grpcFailed = false;
        try (OutputStream out = output == null ? new NonClosing(stdout) : new BufferedOutputStream(Files.newOutputStream(output))) {
            for (Target t : targets) {
                Protocol p = forced;
                Target target = t;
                Integer h3Port = h3Ports.get(t.origin());
                if (forced == null && h3Port != null) {
                    p = Protocol.HTTP_3;
                    target = t.withPort(h3Port);
                }
                String key = target.origin() + " " + p;
                long start = System.nanoTime();
                ClientConnection c = connections.get(key);
                boolean fresh = c == null || !c.isUsable();
                if (fresh) {
                    verbose("* connecting to " + target.origin() + (p == null ? (target.tls() ? " (ALPN: h2, http/1.1)" : " (HTTP/1.1)") : " over " + p.shortName()));
                    Future<ClientConnection> f = connector.connect(loop, target, p);
                    if (!f.await(remainingMillis(deadline))) {
                        f.cancel(false);
                        return fail(ExitCodes.TIMEOUT, "--max-time reached while connecting to " + target.origin());
                    }
                    if (!f.isSuccess() && deadline != Long.MAX_VALUE && System.nanoTime() - deadline >= 0) {
                        return fail(ExitCodes.TIMEOUT, "--max-time reached while connecting to " + target.origin());
                    }
                    if (!f.isSuccess()) {
                        RequestFailure rf = RequestFailure.classify(f.cause(), ErrorKind.CONNECT);
                        return fail(ExitCodes.of(rf.kind()), target.origin() + ": " + rf.getMessage());
                    }
                    c = f.getNow();
                    connections.put(key, c);
                    describe(c.info());
                }
                RequestSpec spec = new RequestSpec(flags.method(body), target, headers, body);
                RequestPrinter printer = new RequestPrinter(out, include, verbose ? stderr : null, c.protocol(),
                        flags.grpc ? new GrpcMessages(output != null) : null);
                printer.printRequest(spec);
                ClientConnection conn = c;
                loop.execute(() -> {
                    conn.send(spec, printer);
                    conn.flush();
                });
                if (!printer.done().await(remainingMillis(deadline), TimeUnit.MILLISECONDS)) {
                    return fail(ExitCodes.TIMEOUT, "--max-time reached waiting for " + target);
                }
                if (printer.writeError() != null) {
                    throw printer.writeError();
                }
                if (printer.failure() != null) {
                    return fail(ExitCodes.of(printer.failure().kind()), target + ": " + printer.failure().getMessage());
                }
                ConnectionInfo info = c.info();
                long end = System.nanoTime();
                verbose(String.format(java.util.Locale.ROOT, "* timings since the start: %sfirst byte %.2f ms, total %.2f ms",
                        fresh ? connectTimings(info) : "connection reused, ",
                        (printer.headAt() - start) / 1e6, (end - start) / 1e6));
                if (printer.grpc() != null) {
                    out.flush();
                    GrpcMessages.Outcome o = printer.grpc().outcome(printer.status(), printer.headers(), printer.trailers());
                    stdout.println(o.describe());
                    stdout.flush();
                    if (!o.ok()) {
                        grpcFailed = true;
                    }
                }
                if (altSvc && forced == null && c.protocol() != Protocol.HTTP_3) {
                    Integer port = AltSvc.h3Port(printer.header("alt-svc"));
                    if (port != null) {
                        h3Ports.put(t.origin(), port);
                        verbose("* alt-svc: h3 on port " + port + "; later requests to " + t.origin() + " use HTTP/3");
                    }
                }
            }
            out.flush();
        } catch (IOException e) {
            return fail(ExitCodes.FILE, "cannot write " + (output == null ? "stdout" : output) + ": " + e.getMessage());
        } finally {
            connections.values().forEach(ClientConnection::close);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(3, TimeUnit.SECONDS);
        }
        return grpcFailed ? ExitCodes.GRPC_STATUS : ExitCodes.OK;
    }

    private static String connectTimings(ConnectionInfo info) {
        StringBuilder b = new StringBuilder();
        if (info.connectedNanos() >= 0) {
            b.append(String.format(java.util.Locale.ROOT, "connect %.2f ms, ", info.connectedNanos() / 1e6));
        }
        if (info.handshakeNanos() >= 0) {
            b.append(String.format(java.util.Locale.ROOT, "%s %.2f ms, ",
                    info.protocol() == Protocol.HTTP_3 ? "QUIC handshake" : "TLS handshake", info.handshakeNanos() / 1e6));
        }
        return b.toString();
    }

    private void describe(ConnectionInfo info) {
        verbose("* connected to " + info.remote().getAddress().getHostAddress() + ":" + info.remote().getPort()
                + ": " + info.protocol().display()
                + (info.tlsVersion() == null ? ", no TLS" : ", " + info.tlsVersion()
                + (info.cipherSuite() == null ? "" : ", " + info.cipherSuite())));
    }

    private void verbose(String line) {
        if (verbose) {
            stderr.println(line);
            stderr.flush();
        }
    }

    private int fail(int code, String message) {
        stdout.flush();
        stderr.println("h3relay request: " + message);
        stderr.flush();
        return code;
    }

    private static long remainingMillis(long deadline) {
        if (deadline == Long.MAX_VALUE) {
            return Long.MAX_VALUE / 2;
        }
        return Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
    }

    /** stdout must stay open after the command. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
