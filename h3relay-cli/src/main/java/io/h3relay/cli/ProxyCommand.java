package io.h3relay.cli;

import io.h3relay.config.ConfigException;
import io.h3relay.config.ConfigLoader;
import io.h3relay.config.RelayConfig;
import io.h3relay.tls.DevCertificates;
import io.h3relay.server.RelayServer;
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
 * {@code h3relay proxy --from :8443 --to 127.0.0.1:9000}: a one-line reverse proxy, like
 * {@code caddy reverse-proxy}. The from-side is TLS (self-signed unless --cert/--key are given) when it
 * says {@code https://} or has no scheme and a port other than 80 / 8080; {@code http://} is plaintext
 * (HTTP/1.1 and h2c).
 */
@Command(name = "proxy", mixinStandardHelpOptions = true,
        description = "Reverse-proxy one address to one or more endpoints, no config file needed.")
final class ProxyCommand implements Callable<Integer> {
    @Option(names = "--from", required = true, paramLabel = "ADDRESS",
            description = "Where to listen: [https://|http://][HOST]:PORT, e.g. :8443 or http://:8080.")
    String from;

    @Option(names = "--to", required = true, paramLabel = "HOST:PORT",
            description = "Endpoint to forward to (repeatable; round robin).")
    List<String> to;

    @Option(names = "--cert", paramLabel = "FILE", description = "PEM certificate chain for TLS (default: self-signed).")
    Path cert;

    @Option(names = "--key", paramLabel = "FILE", description = "PEM private key for --cert.")
    Path key;

    @Option(names = "--admin", paramLabel = "HOST:PORT",
            description = "Admin address (default: a free port on 127.0.0.1, printed at start).")
    String admin;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where a self-signed certificate is kept (default: $H3RELAY_STATE_DIR or ./.h3relay).")
    Path stateDir;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        String address = from;
        Boolean tls = null;
        if (address.startsWith("https://")) {
            tls = true;
            address = address.substring(8);
        } else if (address.startsWith("http://")) {
            tls = false;
            address = address.substring(7);
        }
        address = address.endsWith("/") ? address.substring(0, address.length() - 1) : address;
        if (address.startsWith(":")) {
            address = "0.0.0.0" + address;
        }
        if (tls == null) {
            tls = !(address.endsWith(":80") || address.endsWith(":8080"));
        }
        if ((cert == null) != (key == null)) {
            err.println("h3relay proxy: --cert and --key go together");
            err.flush();
            return 2;
        }
        StringBuilder yaml = new StringBuilder();
        // Without --admin, a free port: the one-liner must not need 9901 (a demo may be using it).
        yaml.append("admin:\n  address: \"").append(admin == null ? "127.0.0.1:0" : admin).append("\"\n");
        yaml.append("listeners:\n  - name: proxy\n    address: \"").append(address).append("\"\n");
        DevCertificates.Result selfSigned = null;
        if (tls) {
            Path certFile = cert;
            Path keyFile = key;
            if (certFile == null) {
                Path state = StateDir.resolve(stateDir);
                try {
                    DevCertificates.Result r = DevCertificates.ensure(List.of("localhost", "127.0.0.1", "::1"),
                            state.resolve("proxy"));
                    selfSigned = r;
                    certFile = r.certificate();
                    keyFile = r.privateKey();
                } catch (IOException e) {
                    err.println("h3relay proxy: cannot write a self-signed certificate: " + e.getMessage());
                    err.flush();
                    return 1;
                }
            }
            yaml.append("    protocols: [http1, http2, http3]\n    tls:\n")
                    .append("      certificate: \"").append(certFile.toAbsolutePath()).append("\"\n")
                    .append("      private_key: \"").append(keyFile.toAbsolutePath()).append("\"\n");
        } else {
            yaml.append("    protocols: [http1, h2c]\n");
        }
        yaml.append("    limits:\n      max_request_body_size: 0\n");
        yaml.append("routes:\n  - name: all\n    match: { path_prefix: / }\n    cluster: upstream\n");
        yaml.append("clusters:\n  - name: upstream\n    endpoints:\n");
        for (String t : to) {
            yaml.append("      - address: \"").append(t).append("\"\n");
        }
        yaml.append("shutdown:\n  drain_delay: 0\n"); // a one-liner nothing balances: Ctrl-C drains at once
        RelayConfig config;
        try {
            config = ConfigLoader.parse(yaml.toString(), null, Map.of());
        } catch (ConfigException e) {
            ConfigLoading.report("h3relay proxy", e, err);
            return 2;
        }
        RelayServer server = ServerRunner.start(config, err);
        if (server == null) {
            return 1;
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("h3relay proxy: %s -> %s%n", Urls.of(tls ? "https" : "http", server.listenerAddress("proxy")),
                String.join(", ", to));
        if (tls) {
            out.printf("  HTTP/1.1, HTTP/2, and HTTP/3 on udp/%d%n", server.http3Address("proxy").getPort());
        }
        if (selfSigned != null) {
            printSelfSigned(out, selfSigned);
        }
        out.printf("  admin: %s/readyz%s%n", Urls.of("http", server.adminAddress()),
                admin == null ? " (a free port; --admin HOST:PORT to choose one)" : "");
        out.flush();
        return ServerRunner.runUntilStopped(server);
    }

    /** Where a self-signed certificate is and its SPKI pin, which Chromium takes instead of trusting it. */
    static void printSelfSigned(PrintWriter out, DevCertificates.Result cert) {
        String pin = DevCertificates.spkiSha256Base64(cert.x509());
        out.printf("  self-signed certificate: %s (SPKI sha256 %s)%n", cert.certificate().toAbsolutePath(), pin);
        out.printf("  Chromium: --ignore-certificate-errors-spki-list=%s%n", pin);
    }
}
