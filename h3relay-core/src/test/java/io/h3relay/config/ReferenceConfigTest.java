package io.h3relay.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.config.ClusterConfig.CircuitBreaker;
import io.h3relay.config.ClusterConfig.EndpointConfig;
import io.h3relay.config.ClusterConfig.HealthCheck;
import io.h3relay.config.ClusterConfig.LoadBalancerKind;
import io.h3relay.config.ClusterConfig.OutlierDetection;
import io.h3relay.config.ClusterConfig.Pool;
import io.h3relay.config.ClusterConfig.RetryBudget;
import io.h3relay.config.ClusterConfig.StatusRange;
import io.h3relay.config.ClusterConfig.UpstreamProtocol;
import io.h3relay.config.ClusterConfig.UpstreamTls;
import io.h3relay.config.Http3Config.CongestionControl;
import io.h3relay.config.RouteConfig.Forward;
import io.h3relay.config.RouteConfig.HeaderOps;
import io.h3relay.config.RouteConfig.Match;
import io.h3relay.config.RouteConfig.Retry;
import io.h3relay.config.RouteConfig.Rewrite;
import io.h3relay.config.TlsServerConfig.ClientAuth;
import io.h3relay.config.TlsServerConfig.TlsVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example config users get, {@code examples/h3relay.example.yaml} at the repository's top level (the
 * docs point there), loads to exactly this model, so it cannot rot. Its certificate paths must exist, so
 * the test copies it next to placeholder files.
 */
class ReferenceConfigTest {
    @TempDir
    Path dir;

    @Test
    void referenceFileLoadsToTheFullModel() throws Exception {
        Path file = copyReferenceWithCerts();
        RelayConfig config = ConfigLoader.load(file);
        assertThat(config).isEqualTo(expected(dir.toAbsolutePath()));
    }

    @Test
    void referenceFileFailsWhenTheCertificatesAreMissing() throws Exception {
        Path file = dir.resolve("h3relay.yaml");
        Files.copy(example(), file);
        try {
            ConfigLoader.load(file);
        } catch (ConfigException e) {
            assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
                    "line 16: listeners[0].tls.certificate: \"certs/server.crt\" (expected: a readable file"
                            + " (relative paths start at the config file's folder))",
                    "line 17: listeners[0].tls.private_key: \"certs/server.key\" (expected: a readable file"
                            + " (relative paths start at the config file's folder))");
            return;
        }
        throw new AssertionError("expected a ConfigException");
    }

    /** The file in the source tree: tests run in the module's folder, the example is one level up. */
    static Path example() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("examples/h3relay.example.yaml");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError("examples/h3relay.example.yaml not found above " + Path.of("").toAbsolutePath());
    }

    private Path copyReferenceWithCerts() throws IOException {
        Path file = dir.resolve("h3relay.yaml");
        Files.copy(example(), file);
        Files.createDirectories(dir.resolve("certs"));
        Files.writeString(dir.resolve("certs/server.crt"), "placeholder");
        Files.writeString(dir.resolve("certs/server.key"), "placeholder");
        return file;
    }

    private static RelayConfig expected(Path base) {
        TlsServerConfig tls = new TlsServerConfig(base.resolve("certs/server.crt"), base.resolve("certs/server.key"),
                null, TlsVersion.TLS_1_2, ClientAuth.NONE, null, List.of());
        Http3Config http3 = new Http3Config(true, Duration.ofHours(24), 8443, Duration.ofSeconds(60),
                Duration.ofSeconds(20), 128, 32, 16L << 20, 1L << 20, CongestionControl.CUBIC, true, false, 0, true,
                true, Http3Config.ZeroRttUnsafe.REJECT, null, Duration.ofHours(12), null, 1.0, 256L << 20, null, null,
                0, 0);
        LimitsConfig limits = new LimitsConfig(8L << 20, 16 << 10, 32 << 10, Duration.ofMinutes(2),
                Duration.ofSeconds(15), 256, 100_000, Duration.ofMinutes(5), Duration.ZERO, Duration.ofMinutes(5));
        ListenerConfig pub = new ListenerConfig("public", new HostPort("0.0.0.0", 8443),
                Set.of(Protocol.HTTP1, Protocol.HTTP2, Protocol.HTTP3), tls, http3, limits, List.of("api", "site"));
        ListenerConfig plain = new ListenerConfig("plain", new HostPort("0.0.0.0", 8080),
                Set.of(Protocol.HTTP1, Protocol.H2C), null, Http3Config.defaults(), LimitsConfig.defaults(),
                List.of("site"));

        RouteConfig api = new RouteConfig("api",
                new Match(List.of("api.example.com", "*.example.com", "localhost"), null, "/api/", null,
                        List.of("GET", "POST", "PUT", "DELETE"), Map.of("x-canary", "true"), null),
                new Forward("api"), new Rewrite("/api", null), Duration.ofSeconds(30),
                new Retry(3, List.of("connect-failure", "refused-stream", "reset", "503"), Duration.ofSeconds(5),
                        Duration.ofMillis(25), Duration.ofMillis(250), Retry.DEFAULT_REPLAY_LIMIT),
                new HeaderOps(Map.of("x-gateway", "h3relay"), List.of("x-internal-debug")),
                new HeaderOps(Map.of("strict-transport-security", "max-age=31536000"), List.of("server")));
        RouteConfig site = new RouteConfig("site", new Match(List.of(), null, "/", null, List.of(), Map.of(), null),
                new Forward("web"), null, null, null, HeaderOps.NONE, HeaderOps.NONE);

        ClusterConfig apiCluster = new ClusterConfig("api", UpstreamProtocol.HTTP1, LoadBalancerKind.LEAST_REQUEST,
                null,
                List.of(new EndpointConfig(new HostPort("127.0.0.1", 9001), 1),
                        new EndpointConfig(new HostPort("127.0.0.1", 9002), 2)),
                Duration.ofSeconds(2), new Pool(1024, Duration.ofSeconds(60), 0),
                new UpstreamTls(true, null, null, null, null),
                new HealthCheck("/health", Duration.ofSeconds(10), Duration.ofSeconds(5), 2, 3,
                        List.of(new StatusRange(200, 299))),
                new OutlierDetection(5, 3, Duration.ofSeconds(30), 50),
                new CircuitBreaker(4096, 1024, 8192),
                new RetryBudget(20, 10));
        ClusterConfig web = new ClusterConfig("web", UpstreamProtocol.HTTP1, LoadBalancerKind.ROUND_ROBIN, null,
                List.of(new EndpointConfig(new HostPort("127.0.0.1", 9003), 1)), Duration.ofSeconds(5),
                Pool.defaults(), null, null, null, null, null);

        ObservabilityConfig observability = new ObservabilityConfig(new ObservabilityConfig.Metrics(true),
                new ObservabilityConfig.Tracing("none", "http://127.0.0.1:4318", 0.1, "h3relay"),
                new ObservabilityConfig.AccessLog("stdout", "json"), new ObservabilityConfig.Logging("info", "text"));

        return new RelayConfig(new AdminConfig(new HostPort("127.0.0.1", 9901)), List.of(pub, plain),
                List.of(api, site), List.of(apiCluster, web), observability,
                new ShutdownConfig(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(1)));
    }
}
