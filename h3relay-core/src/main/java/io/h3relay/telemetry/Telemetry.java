package io.h3relay.telemetry;

import io.h3relay.admin.AdminServer;
import io.h3relay.cluster.Cluster;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.config.ListenerConfig;
import io.h3relay.config.ObservabilityConfig;
import io.h3relay.listener.ConnectionObserver;
import io.h3relay.exchange.ExchangeObserver;
import io.netty.channel.group.ChannelGroup;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import io.h3relay.filter.Filter;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Metrics, tracing and the access log of one server, built from {@code observability:}. Each part is
 * optional; what is off costs nothing per request (it is simply not among the exchange observers).
 * Observers run in the order tracing (which names the trace id), metrics, access log (which logs it).
 */
public final class Telemetry implements AutoCloseable {
    private final Metrics metrics;
    private final Tracing tracing;
    private final AccessLog accessLog;
    /** {@code h3relay_config_reloads_total{result}}, or null when metrics are off. */
    private final io.prometheus.metrics.core.metrics.Counter reloads;

    private Telemetry(Metrics metrics, Tracing tracing, AccessLog accessLog) {
        this.metrics = metrics;
        this.tracing = tracing;
        this.accessLog = accessLog;
        if (metrics != null) {
            reloads = io.prometheus.metrics.core.metrics.Counter.builder().name("h3relay_config_reloads")
                    .help("Config reloads and admin config changes, by result: applied, rejected (invalid, "
                            + "nothing changed), restart_required (changes a setting only a restart applies)")
                    .labelNames("result").withoutExemplars().register(metrics.registry);
            for (String r : new String[] {"applied", "rejected", "restart_required"}) {
                reloads.labelValues(r); // every result's series from 0
            }
        } else {
            reloads = null;
        }
    }

    /** Counts a reload attempt by its result ({@code applied}, {@code rejected}, {@code restart_required}). */
    public void configReloaded(String result) {
        if (reloads != null) {
            reloads.labelValues(result).inc();
        }
    }

    /**
     * @param clusters the clusters in service now (read at every scrape: the current runtime's)
     * @param healthy  whether an endpoint may receive requests now (for the health gauge)
     * @throws IOException when the access log file cannot be opened
     */
    public static Telemetry create(ObservabilityConfig config, Supplier<Collection<Cluster>> clusters,
                                   Predicate<Endpoint> healthy) throws IOException {
        Metrics metrics = config.metrics().enabled() ? new Metrics(clusters, healthy) : null;
        AccessLog accessLog = AccessLog.open(config.accessLog());
        Tracing tracing = "otlp".equals(config.tracing().exporter()) ? Tracing.create(config.tracing()) : null;
        if (metrics != null && accessLog != null) {
            CounterWithCallback.builder().name("h3relay_access_log_dropped")
                    .help("Access log lines dropped because the writer fell behind (or the output failed)")
                    .callback(cb -> cb.call(accessLog.dropped())).register(metrics.registry);
        }
        return new Telemetry(metrics, tracing, accessLog);
    }

    public ExchangeObserver.Factory exchangeObservers(ListenerConfig listener) {
        List<ExchangeObserver.Factory> parts = new ArrayList<>(3);
        if (tracing != null) {
            parts.add(tracing.exchangeObservers());
        }
        if (metrics != null) {
            parts.add(metrics.exchangeObservers(listener));
        }
        if (accessLog != null) {
            parts.add(accessLog.exchangeObservers());
        }
        return ExchangeObserver.Factory.compose(parts);
    }

    /** The filters telemetry puts first in every listener's chain: sending the trace context upstream. */
    public List<Filter> filters() {
        return tracing == null ? List.of() : List.of(TraceContextFilter.INSTANCE);
    }

    public ConnectionObserver connectionObserver(ListenerConfig listener) {
        return metrics == null ? ConnectionObserver.NONE : metrics.connectionObserver(listener);
    }

    /** One series of the HTTP cache's counters: a route's store and a result (hit, miss, stale, ...). */
    public record CacheSeries(String listener, String route, String result, long value) {
    }

    /**
     * Publishes the cache policy's counters as {@code h3relay_cache_requests_total{listener,route,result}},
     * read from the current runtime's stores at each scrape (a reload starts new stores: the series restart).
     */
    public void cacheMetrics(Supplier<List<CacheSeries>> series) {
        if (metrics != null) {
            CounterWithCallback.builder().name("h3relay_cache_requests_total")
                    .help("HTTP cache outcomes per route: hit, miss, stale (served stale), revalidated (304 from the "
                            + "endpoint), bypass, stored, collapsed (answered from another request's fetch)")
                    .labelNames("listener", "route", "result")
                    .callback(cb -> {
                        for (CacheSeries s : series.get()) {
                            cb.call(s.value(), s.listener(), s.route(), s.result());
                        }
                    }).register(metrics.registry);
        }
    }

    /** Publishes how many QUIC connections each UDP socket of a listener accepted. */
    /** Exposes the policies' decisions as {@code h3relay_policy_decisions_total}. */
    public void policyMetrics(io.h3relay.policy.PolicyMetrics policies) {
        if (metrics == null) {
            return;
        }
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("h3relay_policy_decisions")
                .help("Edge policy decisions (rate_limit: allowed, limited, dry_run_limited, store_error_allowed, "
                        + "store_error_denied; auth; ip_rules), by listener, route, policy and decision")
                .labelNames("listener", "route", "policy", "decision")
                .callback(cb -> policies.forEach((l, v) -> cb.call(v, l.listener(), l.route(), l.policy(),
                        l.decision())))
                .register(metrics.registry);
    }

    public void http3Sockets(String listener, Supplier<long[]> connectionsPerSocket) {
        if (metrics != null) {
            metrics.quic.socketConnections(listener, connectionsPerSocket);
        }
    }

    /** Admin {@code /metrics} (when metrics are on). */
    public void addAdminEndpoints(AdminServer admin, Supplier<Iterable<ChannelGroup>> connections) {
        if (metrics != null) {
            admin.endpoint("/metrics", metrics.endpoint(connections));
        }
    }

    /**
     * A config was applied: {@code added} clusters get their series at zero, {@code retired} ones are
     * forgotten by the per-endpoint lookup (their counters stay, by name).
     */
    public void clustersChanged(Collection<Cluster> added, Collection<Cluster> retired) {
        if (metrics != null) {
            metrics.upstream.clustersAdded(added);
            metrics.upstream.clustersRetired(retired);
        }
    }

    /** Upstream metrics for the resilience features to record into, or null when metrics are off. */
    public UpstreamMetrics upstreamMetrics() {
        return metrics == null ? null : metrics.upstream;
    }

    /**
     * The sum of a counter's or gauge's series whose labels include all of {@code labels} (name without
     * {@code _total}), for introspection; null when metrics are off.
     */
    public Double sum(String metric, Map<String, String> labels) {
        if (metrics == null) {
            return null;
        }
        double sum = 0;
        for (MetricSnapshot s : metrics.registry.scrape(metric::equals)) {
            for (DataPointSnapshot p : s.getDataPoints()) {
                boolean match = labels.entrySet().stream()
                        .allMatch(e -> e.getValue().equals(p.getLabels().get(e.getKey())));
                if (match) {
                    sum += p instanceof CounterSnapshot.CounterDataPointSnapshot c ? c.getValue()
                            : p instanceof GaugeSnapshot.GaugeDataPointSnapshot g ? g.getValue() : 0;
                }
            }
        }
        return sum;
    }

    /**
     * Every series of a counter or gauge (name without {@code _total}), as its labels and value, from one
     * scrape; empty when metrics are off. For the control center's status.
     */
    public List<Map.Entry<Map<String, String>, Double>> series(String metric) {
        List<Map.Entry<Map<String, String>, Double>> out = new ArrayList<>();
        if (metrics == null) {
            return out;
        }
        for (MetricSnapshot s : metrics.registry.scrape(metric::equals)) {
            for (DataPointSnapshot p : s.getDataPoints()) {
                double v = p instanceof CounterSnapshot.CounterDataPointSnapshot c ? c.getValue()
                        : p instanceof GaugeSnapshot.GaugeDataPointSnapshot g ? g.getValue() : 0;
                Map<String, String> labels = new java.util.HashMap<>();
                p.getLabels().forEach(l -> labels.put(l.getName(), l.getValue()));
                out.add(Map.entry(labels, v));
            }
        }
        return out;
    }

    /**
     * A classic histogram's series: labels, upper bounds and per-bucket (not cumulative) counts; empty when
     * metrics are off.
     */
    public List<Map.Entry<Map<String, String>, double[][]>> histogram(String metric) {
        List<Map.Entry<Map<String, String>, double[][]>> out = new ArrayList<>();
        if (metrics == null) {
            return out;
        }
        for (MetricSnapshot s : metrics.registry.scrape(metric::equals)) {
            for (DataPointSnapshot p : s.getDataPoints()) {
                if (p instanceof io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot h
                        && h.hasClassicHistogramData()) {
                    var b = h.getClassicBuckets();
                    double[][] v = new double[2][b.size()];
                    for (int i = 0; i < b.size(); i++) {
                        v[0][i] = b.getUpperBound(i);
                        v[1][i] = b.getCount(i);
                    }
                    Map<String, String> labels = new java.util.HashMap<>();
                    p.getLabels().forEach(l -> labels.put(l.getName(), l.getValue()));
                    out.add(Map.entry(labels, v));
                }
            }
        }
        return out;
    }

    /** Flushes the access log and the spans still queued; call once the event loops have stopped. */
    @Override
    public void close() {
        if (accessLog != null) {
            accessLog.close();
        }
        if (tracing != null) {
            tracing.close();
        }
    }
}
