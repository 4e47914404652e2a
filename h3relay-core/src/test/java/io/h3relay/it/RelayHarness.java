package io.h3relay.it;

import io.h3relay.config.ConfigLoader;
import io.h3relay.config.RelayConfig;
import io.h3relay.server.RelayServer;
import io.h3relay.testing.Http3TestClient;
import io.h3relay.testing.TestCertificates;

import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A real h3relay on port 0 for integration tests. The config is YAML as a user writes it, with
 * placeholders: {@code @CERT@}, {@code @KEY@} (a test certificate for localhost), and any {@code @NAME@}
 * given to {@link #with}. Listener {@code tls} (https, h1 + h2) and, if declared, {@code plain}
 * (http, h1 + h2c) are what tests talk to.
 */
public final class RelayHarness implements AutoCloseable {
    private static final Path CERT_DIR;
    private static final TestCertificates CERTS;

    static {
        try {
            CERT_DIR = Files.createTempDirectory("h3relay-it-certs");
            CERTS = TestCertificates.create(CERT_DIR, "localhost", "127.0.0.1");
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final RelayServer server;
    private final Map<Proto, HttpClient> clients = new EnumMap<>(Proto.class);

    private RelayHarness(RelayServer server) {
        this.server = server;
    }

    public static Builder yaml(String yaml) {
        return new Builder(yaml);
    }

    /** {@link #LISTENERS} with one catch-all route to a one-endpoint cluster at {@code endpointAddress}. */
    public static RelayHarness singleCluster(String endpointAddress, String limits) {
        return yaml(LISTENERS + """
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                """).with("LIMITS", limits).with("EP", endpointAddress).start();
    }

    public static TestCertificates certs() {
        return CERTS;
    }

    public RelayServer server() {
        return server;
    }

    public int tlsPort() {
        return server.listenerAddress("tls").getPort();
    }

    public int plainPort() {
        return server.listenerAddress("plain").getPort();
    }

    public URI uri(Proto proto, String pathAndQuery) {
        return URI.create("https://localhost:" + tlsPort() + pathAndQuery);
    }

    public String plainUrl(String pathAndQuery) {
        return "http://localhost:" + plainPort() + pathAndQuery;
    }

    public String tlsUrl(String pathAndQuery) {
        return "https://localhost:" + tlsPort() + pathAndQuery;
    }

    /** A Java HttpClient (a client we did not write) pinned to the protocol, trusting the test CA. */
    public HttpClient client(Proto proto) {
        if (proto == Proto.H3) {
            return clients.computeIfAbsent(proto, p -> new Http3TestClient(CERTS.caCert()));
        }
        return clients.computeIfAbsent(proto, p -> HttpClient.newBuilder()
                .version(p.version)
                .sslContext(CERTS.trustingSslContext())
                .connectTimeout(Duration.ofSeconds(5))
                .build());
    }

    @Override
    public void close() {
        clients.values().forEach(HttpClient::close);
        server.stop(Duration.ofSeconds(2));
    }

    public static final class Builder {
        private final String yaml;
        private final Map<String, String> values = new LinkedHashMap<>();
        private io.h3relay.transport.Transport transport;

        private Builder(String yaml) {
            this.yaml = yaml;
        }

        /** Runs on {@code transport} instead of the detected one (-Dh3relay.transport). */
        public Builder transport(io.h3relay.transport.Transport transport) {
            this.transport = transport;
            return this;
        }

        public Builder with(String name, Object value) {
            values.put(name, String.valueOf(value));
            return this;
        }

        /** The config as the loader reads it, placeholders filled in (for {@code RelayServer.apply}). */
        public RelayConfig config() {
            try {
                return ConfigLoader.parse(text(), CERT_DIR, Map.of());
            } catch (Exception e) {
                throw new AssertionError("invalid config:\n" + text(), e);
            }
        }

        public RelayHarness start() {
            String text = text();
            try {
                RelayConfig config = ConfigLoader.parse(text, CERT_DIR, Map.of());
                return new RelayHarness(transport == null ? RelayServer.start(config)
                        : RelayServer.start(config, null, transport));
            } catch (Exception e) {
                throw new AssertionError("cannot start h3relay with:\n" + text, e);
            }
        }

        /**
         * Writes the config to {@code file} and starts from it, so reloads (admin API, watch) read the file.
         */
        public RelayHarness startFrom(Path file) {
            String text = text();
            try {
                Files.writeString(file, text);
                return new RelayHarness(RelayServer.start(ConfigLoader.parse(text, CERT_DIR, Map.of()), file));
            } catch (Exception e) {
                throw new AssertionError("cannot start h3relay with:\n" + text, e);
            }
        }

        /** The config text, placeholders filled in. */
        public String text() {
            String text = yaml.replace("@CERT@", CERTS.certPath().toString())
                    .replace("@KEY@", CERTS.keyPath().toString());
            for (Map.Entry<String, String> e : values.entrySet()) {
                text = text.replace("@" + e.getKey() + "@", e.getValue());
            }
            return text;
        }
    }

    /**
     * The common listener block: TLS (h1 + h2 over TCP, h3 over UDP on the same port number) and plaintext
     * (h1 + h2c), on port 0; admin on port 0.
     */
    public static final String LISTENERS = """
            admin:
              address: 127.0.0.1:0
            listeners:
              - name: tls
                address: 127.0.0.1:0
                protocols: [http1, http2, http3]
                tls: { certificate: "@CERT@", private_key: "@KEY@" }
                limits: @LIMITS@
              - name: plain
                address: 127.0.0.1:0
                protocols: [http1, h2c]
                limits: @LIMITS@
            shutdown: { drain_timeout: 2s }
            """;
}
