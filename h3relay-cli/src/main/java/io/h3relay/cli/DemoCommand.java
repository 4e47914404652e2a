package io.h3relay.cli;

import io.h3relay.cli.demo.DemoControls;
import io.h3relay.cli.demo.DemoEndpoint;
import io.h3relay.cli.demo.DemoTraffic;
import io.h3relay.config.ConfigException;
import io.h3relay.config.ConfigLoader;
import io.h3relay.config.RelayConfig;
import io.h3relay.tls.DevCertificates;
import io.h3relay.server.RelayServer;
import io.h3relay.transport.Transport;
import io.netty.channel.EventLoopGroup;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code h3relay demo}: two embedded demo endpoints behind one cluster, TLS on 8443 (self-signed
 * certificate kept in the state folder), plaintext h1 + h2c on 8080, admin on 127.0.0.1:9901; the access log
 * goes to {@code demo/access.log} in the state folder. The control center gets the demo's own controls
 * ({@link DemoControls}: stop/start an endpoint, test traffic), registered only here.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run h3relay on a self-contained demo: two endpoints, TLS and plaintext listeners.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--https-port", defaultValue = "8443", description = "TLS listener port (default: ${DEFAULT-VALUE}).")
    int httpsPort;

    @Option(names = "--http-port", defaultValue = "8080", description = "Plaintext listener port (default: ${DEFAULT-VALUE}).")
    int httpPort;

    @Option(names = "--admin-port", defaultValue = "9901", description = "Admin port on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
    int adminPort;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where the demo certificate is kept (default: $H3RELAY_STATE_DIR or ./.h3relay).")
    Path stateDir;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Running demo = start(out, err)) {
            if (demo == null) {
                return 1;
            }
            return ServerRunner.runUntilStopped(demo.server());
        }
    }

    /**
     * The running demo: the server, its two endpoints, the test traffic and the demo's admin routes
     * ({@link DemoControls}); closing it stops the traffic and the endpoints (the server stops itself).
     */
    record Running(RelayServer server, List<DemoEndpoint> endpoints, DemoTraffic traffic, EventLoopGroup group)
            implements AutoCloseable {
        @Override
        public void close() {
            traffic.close();
            endpoints.forEach(DemoEndpoint::close);
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /** Starts the demo and prints its banner; null (after printing why) when it cannot start. */
    Running start(PrintWriter out, PrintWriter err) throws Exception {
        Path state = StateDir.resolve(stateDir);
        DevCertificates.Result cert;
        try {
            cert = DevCertificates.ensure(List.of("localhost", "127.0.0.1", "::1"), state.resolve("demo"));
        } catch (IOException e) {
            err.println("h3relay demo: cannot write the demo certificate under " + state + ": " + e.getMessage());
            err.flush();
            return null;
        }
        // The access log goes to a file: a bench run would flood the terminal, which is for the banner and warnings.
        Path accessLog = state.resolve("demo").resolve("access.log").toAbsolutePath();
        Transport transport;
        try {
            transport = Transport.detect();
        } catch (RuntimeException e) { // -Dh3relay.transport names one that is unknown or not available here
            err.println("h3relay demo: " + e.getMessage());
            err.flush();
            return null;
        }
        EventLoopGroup endpointGroup = transport.newGroup(1, "demo-endpoint");
        DemoEndpoint one = new DemoEndpoint("demo-endpoint-1").start(endpointGroup, transport.serverChannelClass());
        DemoEndpoint two = new DemoEndpoint("demo-endpoint-2").start(endpointGroup, transport.serverChannelClass());
        RelayServer server = null;
        try {
            RelayConfig config;
            try {
                config = ConfigLoader.parse(demoYaml(cert, one.port(), two.port(), accessLog), state, Map.of());
            } catch (ConfigException e) {
                ConfigLoading.report("demo config", e, err);
                return null;
            }
            server = ServerRunner.start(config, err);
            if (server == null) {
                return null;
            }
            int https = server.listenerAddress("public").getPort();
            int http = server.listenerAddress("plain").getPort();
            DemoTraffic traffic = new DemoTraffic(java.net.URI.create("http://127.0.0.1:" + http + "/demo-traffic"));
            new DemoControls(List.of(one, two), traffic).register(server);
            int admin = server.adminAddress().getPort();
            out.printf("%nh3relay demo is running (Ctrl-C to stop)%n");
            out.printf("  https://localhost:%d/   TLS: HTTP/1.1, HTTP/2, and HTTP/3 on udp/%d%n",
                    https, server.http3Address("public").getPort());
            out.printf("  http://localhost:%d/    plaintext, HTTP/1.1 and h2c%n", http);
            out.printf("  http://127.0.0.1:%d/ui   control center: stop/start an endpoint, send %d req/s of test traffic%n",
                    admin, DemoTraffic.RATE);
            out.printf("  http://127.0.0.1:%d/readyz   admin (also /metrics, /introspect, /health, POST /drain)%n", admin);
            ProxyCommand.printSelfSigned(out, cert);
            out.printf("  access log: %s%n", accessLog);
            out.printf("  endpoints: demo-endpoint-1 on 127.0.0.1:%d, demo-endpoint-2 on 127.0.0.1:%d (round robin)%n",
                    one.port(), two.port());
            out.printf("%nTry:%n  curl -k --http2 https://localhost:%d/hello%n", https);
            out.printf("  gtlsclient --exit-on-all-streams-close --no-quic-dump localhost %d https://localhost:%d/hello"
                    + " 2>&1 | grep -E ':status|x-endpoint'   (HTTP/3)%n", https, https);
            out.printf("  curl --http2-prior-knowledge http://localhost:%d/ping%n%n", http);
            out.flush();
            return new Running(server, List.of(one, two), traffic, endpointGroup);
        } finally {
            if (server == null) {
                one.close();
                two.close();
                endpointGroup.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
            }
        }
    }

    private String demoYaml(DevCertificates.Result cert, int portOne, int portTwo, Path accessLog) {
        return """
                admin:
                  address: 127.0.0.1:%d
                listeners:
                  - name: public
                    address: 0.0.0.0:%d
                    protocols: [http1, http2, http3]
                    tls:
                      certificate: "%s"
                      private_key: "%s"
                  - name: plain
                    address: 0.0.0.0:%d
                    protocols: [http1, h2c]
                routes:
                  - name: ping
                    match: { path: /ping }
                    respond: { status: 200, body: "pong\\n", headers: { content-type: text/plain } }
                  - name: demo
                    match: { path_prefix: / }
                    cluster: demo
                    retry: { attempts: 2, on: [connect-failure, reset] }   # a stopped endpoint: the other answers
                    response_headers: { add: { x-served-by: h3relay-demo } }
                clusters:
                  - name: demo
                    load_balancer: round_robin
                    endpoints:
                      - address: 127.0.0.1:%d
                      - address: 127.0.0.1:%d
                    # a stopped endpoint (control center, demo panel) turns unhealthy within a second or two
                    health_check: { path: /healthz, interval: 1s, timeout: 1s, healthy_threshold: 1,
                                    unhealthy_threshold: 1 }
                observability:
                  access_log: { path: "%s" }
                shutdown:
                  drain_delay: 0   # nothing balances the demo: Ctrl-C drains at once
                  drain_timeout: 5s
                """.formatted(adminPort, httpsPort, cert.certificate().toAbsolutePath(),
                cert.privateKey().toAbsolutePath(), httpPort, portOne, portTwo, accessLog);
    }
}
