package io.h3relay.it;

import io.h3relay.cluster.Cluster;
import io.h3relay.config.RelayConfig;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.server.Applied;
import io.h3relay.server.ApplyException;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@code RelayServer.apply} over real sockets, on h1, h2 and h3: a new config moves route {@code /slow} from
 * cluster {@code old} to a new cluster {@code fresh} and drops {@code old}, while a slow response from
 * {@code old} is streaming. The exchange in flight completes on the old route and cluster; new requests take
 * the new route; the unchanged cluster {@code kept} is the same object, with its pooled connection (reused,
 * no new one to its endpoint) and its health state; {@code old} stops its health checks at once and closes its
 * pool only once its exchange has finished. Metrics follow the clusters in service. A config that changes what
 * needs a restart is refused whole, naming each such setting; so is one whose runtime cannot be built.
 */
class RuntimeApplyTest {
    private static final String ROUTES = """
            routes:
              - { name: kept, match: { path_prefix: /kept }, cluster: kept }
              - { name: slow, match: { path_prefix: /slow }, cluster: @SLOW_CLUSTER@ }
            """;
    private static final String KEPT = """
              - name: kept
                endpoints: [ { address: "@KEPT@" } ]
                health_check: { path: /kept-check, interval: 100ms, timeout: 300ms, healthy_threshold: 1,
                                unhealthy_threshold: 1 }
            """;
    private static final String OLD = """
              - name: old
                endpoints: [ { address: "@OLD@" } ]
                health_check: { path: /old-check, interval: 50ms, timeout: 300ms, healthy_threshold: 1,
                                unhealthy_threshold: 1 }
            """;
    private static final String FRESH = """
              - name: fresh
                endpoints: [ { address: "@FRESH@" } ]
            """;

    TestEndpoint kept;
    TestEndpoint old;
    TestEndpoint fresh;
    RelayHarness relay;

    @BeforeEach
    void start() {
        kept = TestEndpoint.start("kept");
        old = TestEndpoint.start("old");
        fresh = TestEndpoint.start("fresh");
        relay = config("old", KEPT + OLD).start();
    }

    @AfterEach
    void stop() {
        relay.close();
        kept.close();
        old.close();
        fresh.close();
    }

    private RelayHarness.Builder config(String slowCluster, String clusters) {
        return RelayHarness.yaml(RelayHarness.LISTENERS + ROUTES + "clusters:\n" + clusters)
                .with("LIMITS", "{}").with("SLOW_CLUSTER", slowCluster).with("KEPT", kept.address())
                .with("OLD", old.address()).with("FRESH", fresh.address());
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void inFlightExchangeFinishesOnTheOldRuntimeWhileNewOnesUseTheNew(Proto proto) throws Exception {
        // A warm pooled connection to kept, and its endpoint found healthy by a check.
        assertThat(get(proto, "/kept/1").headers().firstValue("x-endpoint")).hasValue("kept");
        Cluster keptCluster = relay.server().clusters().get("kept");
        Endpoint keptEndpoint = keptCluster.endpoints().get(0);
        await().atMost(Duration.ofSeconds(5)).until(() -> checks(kept, "/kept-check") > 0);
        assertThat(keptEndpoint.health().isCheckHealthy()).isTrue();
        int keptPooled = keptCluster.pool(keptEndpoint).connectionCount();
        assertThat(keptPooled).isEqualTo(1);

        // 8 chunks 300 ms apart (was 150 ms: under load the apply and the checks below took longer than 1.2 s
        // once, and the exchange was done before the check that the retiring cluster still waits for it).
        CompletableFuture<HttpResponse<byte[]>> inFlight = relay.client(proto).sendAsync(
                HttpRequest.newBuilder(relay.uri(proto, "/slow?chunks=8&interval=300&size=1000")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        await().atMost(Duration.ofSeconds(5)).until(() -> checks(old, "/slow") == 1);
        Cluster oldCluster = relay.server().clusters().get("old");

        Applied applied = relay.server().apply(config("fresh", KEPT + FRESH).config());

        assertThat(applied.generation()).isEqualTo(2);
        assertThat(applied.added()).containsExactly("fresh");
        assertThat(applied.removed()).containsExactly("old");
        assertThat(applied.replaced()).isEmpty();
        assertThat(applied.kept()).containsExactly("kept");
        assertThat(applied.routesChanged()).isTrue();
        assertThat(relay.server().clusters()).containsOnlyKeys("kept", "fresh");
        assertThat(relay.server().clusters().get("kept")).isSameAs(keptCluster);
        assertThat(relay.server().runtime().listener("tls").routes().routes().get(1).cluster())
                .as("route tables point at the clusters of their own snapshot")
                .isSameAs(relay.server().clusters().get("fresh"));

        // New exchanges: the new route and cluster; the kept cluster reuses its pooled connection.
        HttpResponse<byte[]> moved = get(proto, "/slow?chunks=1&interval=0&size=10");
        assertThat(moved.headers().firstValue("x-endpoint")).hasValue("fresh");
        assertThat(get(proto, "/kept/2").headers().firstValue("x-endpoint")).hasValue("kept");
        if (proto == Proto.H1) {
            // The in-flight request holds the client's first h1 connection, so /kept/2 comes on another one,
            // maybe on another event loop, whose pool has no idle connection yet (pools are per loop): the
            // kept connection must still be there, whether or not this request could use it.
            assertThat(keptCluster.pool(keptEndpoint).connectionCount()).isGreaterThanOrEqualTo(keptPooled);
        } else {
            // h2/h3: one client connection, one event loop: the request finds the pooled connection.
            assertThat(connectionOf(kept, "/kept/2")).as("the unchanged cluster's pooled connection was reused")
                    .isEqualTo(connectionOf(kept, "/kept/1"));
            assertThat(keptCluster.pool(keptEndpoint).connectionCount()).isEqualTo(keptPooled);
        }
        assertThat(keptCluster.endpoints().get(0)).isSameAs(keptEndpoint);
        assertThat(keptEndpoint.health().isCheckHealthy()).isTrue();
        assertThat(keptCluster.state()).isEqualTo(Cluster.State.ACTIVE);

        // The removed cluster waits for its exchange; its health checks stopped with the swap.
        assertThat(inFlight).isNotDone();
        assertThat(oldCluster.state()).isEqualTo(Cluster.State.RETIRING);
        assertThat(oldCluster.exchangesInFlight()).isEqualTo(1);
        assertThat(relay.server().clusterManager().retiring()).containsExactly(oldCluster);
        int oldChecks = checks(old, "/old-check");
        await().during(Duration.ofMillis(400)).atMost(Duration.ofSeconds(3))
                .until(() -> checks(old, "/old-check") == oldChecks);

        HttpResponse<byte[]> slow = inFlight.get(10, TimeUnit.SECONDS);
        assertThat(slow.statusCode()).isEqualTo(200);
        assertThat(slow.body()).hasSize(8_000);
        assertThat(slow.headers().firstValue("x-endpoint")).as("finished on the old route and cluster")
                .hasValue("old");
        await().atMost(Duration.ofSeconds(5)).until(() -> oldCluster.state() == Cluster.State.CLOSED);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> oldCluster.pool(oldCluster.endpoints().get(0)).connectionCount() == 0);
        assertThat(relay.server().clusterManager().retiring()).isEmpty();
        assertThat(checks(old, "/slow")).isEqualTo(1);
    }

    @Test
    void metricsFollowTheClustersInService() throws Exception {
        get(Proto.H1, "/kept/1");
        MetricsScrape before = MetricsScrape.of(relay);
        assertThat(series(before, "h3relay_upstream_pool_connections", "old")).isPositive();
        assertThat(series(before, "h3relay_upstream_pool_connections", "fresh")).isZero();

        relay.server().apply(config("fresh", KEPT + FRESH).config());
        get(Proto.H1, "/kept/2");

        MetricsScrape after = MetricsScrape.of(relay);
        assertThat(series(after, "h3relay_upstream_pool_connections", "fresh")).isPositive();
        assertThat(series(after, "h3relay_upstream_pool_connections", "old")).isZero();
        assertThat(series(after, "h3relay_upstream_endpoint_healthy", "old")).isZero();
        assertThat(after.value("h3relay_upstream_connect_failures_total", Map.of("cluster", "fresh")))
                .as("a new cluster's counters start at zero").isZero();
        assertThat(after.families.get("h3relay_upstream_connect_failures_total").getMetricList().stream()
                .anyMatch(m -> m.getLabelList().stream().anyMatch(l -> l.getValue().equals("fresh")))).isTrue();
        // The unchanged cluster keeps its label set and its counts.
        assertThat(series(after, "h3relay_upstream_pool_connections", "kept"))
                .isEqualTo(series(before, "h3relay_upstream_pool_connections", "kept"));
        assertThat(after.value("h3relay_upstream_requests_total", Map.of("cluster", "kept"))).isEqualTo(2);
    }

    @Test
    void aChangedClusterIsReplacedAndAnUnchangedOneKept() throws Exception {
        Cluster keptCluster = relay.server().clusters().get("kept");
        Cluster oldCluster = relay.server().clusters().get("old");
        String changedOld = OLD.replace("interval: 50ms", "interval: 60ms");

        Applied applied = relay.server().apply(config("old", KEPT + changedOld).config());

        assertThat(applied.replaced()).containsExactly("old");
        assertThat(applied.kept()).containsExactly("kept");
        assertThat(applied.routesChanged()).isFalse();
        assertThat(relay.server().clusters().get("kept")).isSameAs(keptCluster);
        Cluster replacement = relay.server().clusters().get("old");
        assertThat(replacement).isNotSameAs(oldCluster);
        await().atMost(Duration.ofSeconds(5)).until(() -> oldCluster.state() == Cluster.State.CLOSED);
        assertThat(get(Proto.H1, "/slow?chunks=1&interval=0&size=10").headers().firstValue("x-endpoint"))
                .hasValue("old");
        assertThat(replacement.state()).isEqualTo(Cluster.State.ACTIVE);

        Applied same = relay.server().apply(config("old", KEPT + changedOld).config());
        assertThat(same.kept()).containsExactly("kept", "old");
        assertThat(same.added()).isEmpty();
        assertThat(same.replaced()).isEmpty();
        assertThat(same.removed()).isEmpty();
        assertThat(relay.server().clusters().get("old")).isSameAs(replacement);
    }

    @Test
    void changesThatNeedARestartAreRefusedWholeAndNamed() throws Exception {
        String yaml = RelayHarness.LISTENERS
                .replace("address: 127.0.0.1:0\nlisteners:", "address: 127.0.0.1:1\nlisteners:")
                .replace("drain_timeout: 2s", "drain_timeout: 3s")
                + """
                        observability: { access_log: { path: "off" } }
                        """
                + ROUTES + "clusters:\n" + KEPT + FRESH;
        RelayConfig next = RelayHarness.yaml(yaml.replace("limits: @LIMITS@\n  - name: plain",
                        "limits: { max_request_headers_size: 8KiB }\n  - name: plain"))
                .with("LIMITS", "{ max_request_body_size: 1KiB }").with("SLOW_CLUSTER", "fresh")
                .with("KEPT", kept.address()).with("FRESH", fresh.address()).config();
        long generation = relay.server().runtime().generation();

        assertThatThrownBy(() -> relay.server().apply(next))
                .isInstanceOfSatisfying(ApplyException.class, e -> assertThat(e.needsRestart()).containsExactly(
                        "admin.address: 127.0.0.1:0 -> 127.0.0.1:1",
                        "shutdown.drain_timeout: 2000ms -> 3000ms",
                        "observability.access_log: changed",
                        "listeners[tls].limits (all but max_request_body_size): changed"))
                .hasMessageStartingWith("not applied: these settings need a restart: admin.address");

        assertThat(relay.server().runtime().generation()).isEqualTo(generation);
        assertThat(relay.server().clusters()).containsOnlyKeys("kept", "old");
        assertThat(get(Proto.H1, "/slow?chunks=1&interval=0&size=10").headers().firstValue("x-endpoint"))
                .hasValue("old");
        assertThat(relay.server().clusterManager().retiring()).isEmpty();
    }

    @Test
    void aRuntimeThatCannotBeBuiltIsRefusedAndNothingChanges(@TempDir Path dir) throws Exception {
        Path notACertificate = Files.writeString(dir.resolve("ca.pem"), "not a certificate\n");
        RelayConfig next = config("fresh", KEPT + FRESH + "    tls: { ca: \"" + notACertificate + "\" }\n").config();
        Cluster keptCluster = relay.server().clusters().get("kept");

        assertThatThrownBy(() -> relay.server().apply(next))
                .isInstanceOfSatisfying(ApplyException.class, e -> assertThat(e.needsRestart()).isEmpty())
                .hasMessageStartingWith("not applied: ").hasMessageContaining("ca.pem");

        assertThat(relay.server().runtime().generation()).isEqualTo(1);
        assertThat(relay.server().clusters()).containsOnlyKeys("kept", "old");
        assertThat(relay.server().clusters().get("kept")).isSameAs(keptCluster);
        assertThat(relay.server().clusters().get("old").state()).isEqualTo(Cluster.State.ACTIVE);
        assertThat(get(Proto.H1, "/slow?chunks=1&interval=0&size=10").headers().firstValue("x-endpoint"))
                .hasValue("old");
    }

    @Test
    void requestLimitsOfTheExchangeFollowTheRuntime() throws Exception {
        relay.server().apply(config("old", KEPT + OLD).with("LIMITS", "{ max_request_body_size: 10 }").config());

        HttpResponse<String> tooLarge = relay.client(Proto.H1).send(HttpRequest.newBuilder(relay.uri(Proto.H1,
                        "/kept/upload")).POST(HttpRequest.BodyPublishers.ofString("more than ten bytes")).build(),
                HttpResponse.BodyHandlers.ofString());
        Envelope.assertError(tooLarge.statusCode(), tooLarge.body(), 413, "request_body_too_large");
    }

    private HttpResponse<byte[]> get(Proto proto, String path) throws Exception {
        HttpResponse<byte[]> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, path)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(res.statusCode()).as(path).isEqualTo(200);
        return res;
    }

    private static int connectionOf(TestEndpoint endpoint, String path) {
        return endpoint.requests().stream().filter(r -> r.path().equals(path)).findFirst().orElseThrow().connection();
    }

    private static int checks(TestEndpoint endpoint, String pathPrefix) {
        return (int) endpoint.requests().stream().filter(r -> r.path().startsWith(pathPrefix)).count();
    }

    /** How many series of a family name the cluster. */
    private static long series(MetricsScrape scrape, String family, String cluster) {
        var f = scrape.families.get(family);
        return f == null ? 0 : f.getMetricList().stream().filter(m -> m.getLabelList().stream()
                .anyMatch(l -> l.getName().equals("cluster") && l.getValue().equals(cluster))).count();
    }
}
