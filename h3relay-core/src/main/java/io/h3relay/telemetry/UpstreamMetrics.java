package io.h3relay.telemetry;

import io.h3relay.upstream.UpstreamProtocol;
import io.h3relay.cluster.Cluster;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.upstream.UpstreamPool;
import io.h3relay.upstream.FallbackPool;
import io.h3relay.exchange.ErrorCode;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Upstream metrics by cluster and endpoint (both from the config): attempts and their outcome, duration,
 * pool state, health. Pool and health gauges are read from the clusters when scraped, so they cost nothing
 * per request. Health and ejections are read from each endpoint's {@code EndpointHealth}. Attempts, responses
 * and their duration are counted in {@link ShardedCells} (plain adds on the event loop's own shard).
 *
 * <p>The gauges read the clusters in service when scraped ({@code clusters}, the current runtime's), so after
 * a config is applied they show the new clusters and no longer the retired ones. Counters are cumulative and
 * keyed by the cluster and endpoint names, not by object: a cluster rebuilt with the same names continues its
 * series (no reset seen by rate()), a removed cluster's counters keep their last values.
 */
public final class UpstreamMetrics {
    private final ShardedCells cells;
    private final ShardedMetrics.Counter requests;
    private final ShardedMetrics.Histogram duration;
    private final ShardedMetrics.Counter attempts;
    private final ShardedMetrics.Counter retries;
    private final Counter failures;
    private final Counter connectFailures;
    private final Counter circuitBreakerRejections;
    private final Map<Endpoint, EndpointSeries> series = new ConcurrentHashMap<>();
    private final Map<String, ClusterSeries> clusterSeries = new ConcurrentHashMap<>();

    UpstreamMetrics(PrometheusRegistry registry, ShardedMetrics sharded, Supplier<Collection<Cluster>> clusters,
                    Predicate<Endpoint> healthy) {
        cells = sharded.cells;
        requests = sharded.counter("h3relay_upstream_requests",
                "Upstream responses received, by cluster, endpoint, status class and the protocol they came over",
                "cluster", "endpoint", "code_class", "protocol");
        duration = sharded.histogram("h3relay_upstream_request_duration_seconds",
                "Time from the start of an attempt (connecting included) to its end, for attempts that got a"
                        + " response", DownstreamMetrics.DURATION_BUCKETS, "cluster", "endpoint");
        attempts = sharded.counter("h3relay_upstream_attempts", "Upstream attempts started (first tries and retries)",
                "cluster");
        retries = sharded.counter("h3relay_upstream_retries", "Upstream attempts that were retries of an earlier one",
                "cluster");
        failures = Counter.builder().name("h3relay_upstream_attempt_failures")
                .help("Upstream attempts that failed, by error code").labelNames("cluster", "endpoint", "error")
                .withoutExemplars().register(registry);
        connectFailures = Counter.builder().name("h3relay_upstream_connect_failures")
                .help("Failed connections to endpoints (refused, timed out, TLS handshake failed)")
                .labelNames("cluster", "endpoint").withoutExemplars().register(registry);
        CounterWithCallback.builder().name("h3relay_upstream_ejections")
                .help("Times outlier detection ejected the endpoint").labelNames("cluster", "endpoint")
                .callback(cb -> eachPool(clusters, (c, e, pool) -> cb.call(e.health().totalEjections(), c.name(),
                        e.toString()))).register(registry);
        circuitBreakerRejections = Counter.builder().name("h3relay_upstream_circuit_breaker_rejections")
                .help("Requests refused by a cluster's circuit breaker").labelNames("cluster")
                .withoutExemplars().register(registry);
        clustersAdded(clusters.get());
        GaugeWithCallback.builder().name("h3relay_upstream_pool_connections")
                .help("Pooled upstream connections, by state (active: carrying a request; idle: kept alive)")
                .labelNames("cluster", "endpoint", "state")
                .callback(cb -> eachPool(clusters, (c, e, pool) -> {
                    int idle = pool.idleCount();
                    cb.call(Math.max(0, pool.connectionCount() - idle), c.name(), e.toString(), "active");
                    cb.call(idle, c.name(), e.toString(), "idle");
                })).register(registry);
        GaugeWithCallback.builder().name("h3relay_upstream_pool_pending_acquisitions")
                .help("Attempts waiting for a pooled connection (max_connections reached)")
                .labelNames("cluster", "endpoint")
                .callback(cb -> eachPool(clusters, (c, e, pool) -> cb.call(pool.pendingCount(), c.name(),
                        e.toString()))).register(registry);
        GaugeWithCallback.builder().name("h3relay_upstream_endpoint_healthy")
                .help("1 when the endpoint may receive requests, 0 when it is unhealthy or ejected")
                .labelNames("cluster", "endpoint")
                .callback(cb -> eachPool(clusters, (c, e, pool) -> cb.call(healthy.test(e) ? 1 : 0, c.name(),
                        e.toString()))).register(registry);
        GaugeWithCallback.builder().name("h3relay_upstream_cluster_panic")
                .help("1 while no endpoint of the cluster is healthy and traffic goes to all of them (panic mode)")
                .labelNames("cluster")
                .callback(cb -> clusters.get().forEach(c -> cb.call(c.snapshot().panic() ? 1 : 0, c.name())))
                .register(registry);
        CounterWithCallback.builder().name("h3relay_upstream_retry_budget_denied")
                .help("Retries the cluster's retry budget refused").labelNames("cluster")
                .callback(cb -> clusters.get().forEach(c -> cb.call(c.retryBudget().denied(), c.name())))
                .register(registry);
        CounterWithCallback.builder().name("h3relay_upstream_protocol_fallbacks")
                .help("Requests an http3 cluster (protocol_policy or_lower) sent over a lower protocol, by why:"
                        + " h3_broken (QUIC failed before, in back-off), quic_failed, quic_slow (TCP won the race),"
                        + " alpn (the endpoint refused h2)")
                .labelNames("cluster", "from", "to", "reason")
                .callback(cb -> {
                    for (Cluster c : clusters.get()) {
                        Map<String, Long> sums = new java.util.TreeMap<>();
                        for (Endpoint e : c.endpoints()) {
                            if (c.pool(e) instanceof FallbackPool f) {
                                f.fallbacks().forEach((k, v) -> sums.merge(k, v.sum(), Long::sum));
                            }
                        }
                        sums.forEach((k, v) -> {
                            String[] l = k.split("\\|", 3);
                            cb.call(v, c.name(), l[0], l[1], l[2]);
                        });
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("h3relay_upstream_requests_active")
                .help("Exchanges currently using the endpoint").labelNames("cluster", "endpoint")
                .callback(cb -> eachPool(clusters, (c, e, pool) -> cb.call(e.activeRequests(), c.name(),
                        e.toString()))).register(registry);
    }

    private interface PoolVisitor {
        void visit(Cluster cluster, Endpoint endpoint, UpstreamPool pool);
    }

    private static void eachPool(Supplier<Collection<Cluster>> clusters, PoolVisitor visitor) {
        for (Cluster c : clusters.get()) {
            for (Endpoint e : c.endpoints()) {
                visitor.visit(c, e, c.pool(e));
            }
        }
    }

    /** Series known from the config start at 0, so rate() and alerts work before the first event. */
    void clustersAdded(Collection<Cluster> clusters) {
        for (Cluster c : clusters) {
            clusterSeries(c.name());
            circuitBreakerRejections.labelValues(c.name());
            for (Endpoint e : c.endpoints()) {
                connectFailures.labelValues(c.name(), e.toString());
            }
        }
    }

    /**
     * Forgets the retired clusters' endpoint objects (the per-endpoint lookup is by identity), so reloads do not
     * pile them up. An exchange still in flight on one records under the same labels through a new entry (one
     * small object per endpoint that had such an exchange).
     */
    void clustersRetired(Collection<Cluster> clusters) {
        for (Cluster c : clusters) {
            c.endpoints().forEach(series::remove);
        }
    }

    void attemptStarted(String cluster, int number) {
        ClusterSeries s = clusterSeries(cluster);
        ShardedCells.Shard shard = cells.shard();
        shard.add(s.attempts, 1);
        if (number > 1) {
            shard.add(s.retries, 1);
        }
    }

    /** A map hit per attempt instead of the label lookup (a list of the values, hashed) of {@code series}. */
    private ClusterSeries clusterSeries(String cluster) {
        ClusterSeries s = clusterSeries.get(cluster);
        return s != null ? s : clusterSeries.computeIfAbsent(cluster,
                c -> new ClusterSeries(attempts.series(c), retries.series(c)));
    }

    /** The cells of a cluster's attempt counters. */
    private record ClusterSeries(int attempts, int retries) {
    }

    void attemptEnded(String cluster, Endpoint endpoint, UpstreamProtocol protocol, int status, ErrorCode failure,
                      long durationNanos) {
        EndpointSeries s = series(cluster, endpoint);
        if (status > 0) {
            ShardedCells.Shard shard = cells.shard();
            shard.add(s.requests(protocol, status), 1);
            duration.observe(shard, s.duration, durationNanos);
        }
        if (failure != null) {
            failures.labelValues(cluster, endpoint.toString(), failure.code()).inc();
            if (failure == ErrorCode.UPSTREAM_CONNECT_FAILED || failure == ErrorCode.UPSTREAM_TLS_FAILED) {
                s.connectFailures.inc();
            } else if (failure == ErrorCode.UPSTREAM_OVERLOADED) {
                // max_requests refused the attempt, or max_pending_requests its wait for a connection
                circuitBreakerRejections.labelValues(cluster).inc();
            }
        }
    }

    private EndpointSeries series(String cluster, Endpoint endpoint) {
        EndpointSeries s = series.get(endpoint);
        return s != null ? s : series.computeIfAbsent(endpoint, e -> new EndpointSeries(cluster, e.toString()));
    }

    private final class EndpointSeries {
        final String cluster;
        final String endpoint;
        final int duration;
        final CounterDataPoint connectFailures;
        /** Cells by status class; -1 until first used (a race finds the same cell twice). */
        final int[][] requests = new int[UpstreamProtocol.values().length][Labels.CLASSES.length];

        EndpointSeries(String cluster, String endpoint) {
            this.cluster = cluster;
            this.endpoint = endpoint;
            this.duration = UpstreamMetrics.this.duration.series(cluster, endpoint);
            this.connectFailures = UpstreamMetrics.this.connectFailures.labelValues(cluster, endpoint);
            for (int[] r : requests) {
                Arrays.fill(r, -1);
            }
        }

        int requests(UpstreamProtocol protocol, int status) {
            int c = Labels.classIndex(status);
            int[] byClass = requests[protocol.ordinal()];
            int cell = byClass[c];
            if (cell < 0) {
                cell = UpstreamMetrics.this.requests.series(cluster, endpoint, Labels.CLASSES[c], protocol.alpn());
                byClass[c] = cell;
            }
            return cell;
        }
    }
}
