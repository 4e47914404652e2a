package io.h3relay.cli;

import io.h3relay.config.ConfigLoader;
import io.h3relay.server.RelayServer;
import io.h3relay.testing.TestCertificates;
import io.h3relay.testing.TestEndpoint;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A test endpoint behind a real h3relay (TLS listener: h1 + h2 over TCP, h3 over UDP, same port; port
 * 0), for driving {@code h3relay request} and {@code bench} in-process through {@link Main#run}.
 */
final class ClientFixture implements AutoCloseable {
    static final Path CERT_DIR;
    static final TestCertificates CERTS;

    static {
        try {
            CERT_DIR = Files.createTempDirectory("h3relay-cli-certs");
            CERTS = TestCertificates.create(CERT_DIR, "localhost", "127.0.0.1");
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final TestEndpoint endpoint = TestEndpoint.start("cli");
    final RelayServer relay;

    ClientFixture() throws Exception {
        relay = RelayServer.start(ConfigLoader.parse("""
                admin: { address: 127.0.0.1:0 }
                listeners:
                  - name: tls
                    address: 127.0.0.1:0
                    protocols: [http1, http2, http3]
                    tls: { certificate: "%s", private_key: "%s" }
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "%s" } ] }
                shutdown: { drain_timeout: 1s }
                """.formatted(CERTS.certPath(), CERTS.keyPath(), endpoint.address()), CERT_DIR, Map.of()));
    }

    /** {@code https://localhost:PORT/path} on the proxy's TLS listener. */
    String url(String path) {
        return "https://localhost:" + relay.listenerAddress("tls").getPort() + path;
    }

    String ca() {
        return CERTS.caCertPath().toString();
    }

    record Run(int exit, String out, String err) {
        /** A number field of bench's --json output. */
        long json(String field) {
            Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\":(\\d+)").matcher(out);
            if (!m.find()) {
                throw new AssertionError("no " + field + " in " + out + err);
            }
            return Long.parseLong(m.group(1));
        }
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        relay.stop(Duration.ofSeconds(1));
        endpoint.close();
    }
}
