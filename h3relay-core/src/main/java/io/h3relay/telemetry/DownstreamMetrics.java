package io.h3relay.telemetry;

import io.h3relay.exchange.DownstreamProtocol;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Downstream metrics: requests, their duration and bodies by listener, protocol and route; connections by
 * protocol; TLS handshake failures. The label lookups of an exchange are cached per (listener, protocol,
 * route) so that the hot path is a map hit and a few atomic adds. Active requests are counted in a
 * {@link LongAdder} per (listener, protocol) and read at scrape time: a Prometheus {@code Gauge} would be one
 * compare-and-set word that every event loop writes twice per request.
 */
final class DownstreamMetrics {
    /** Seconds; from 1 ms (a loopback hit) to a minute (a slow upload or a long poll). */
    static final double[] DURATION_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
            10, 30, 60};

    final Counter requests;
    final Histogram duration;
    final Counter requestBytes;
    final Counter responseBytes;
    final Counter connections;
    final Gauge connectionsActive;
    final Counter tlsFailures;
    private final ConcurrentMap<String, ListenerSeries> listeners = new ConcurrentHashMap<>();

    DownstreamMetrics(PrometheusRegistry registry) {
        requests = Counter.builder().name("h3relay_downstream_requests")
                .help("Downstream requests answered, by listener, protocol, method, status class and route")
                .labelNames("listener", "protocol", "method", "code_class", "route").withoutExemplars()
                .register(registry);
        duration = Histogram.builder().name("h3relay_downstream_request_duration_seconds")
                .help("Time from the request head to the last response byte written")
                .labelNames("listener", "protocol", "route").classicOnly().classicUpperBounds(DURATION_BUCKETS)
                .withoutExemplars().register(registry);
        GaugeWithCallback.builder().name("h3relay_downstream_requests_active")
                .help("Downstream requests in progress").labelNames("listener", "protocol")
                .callback(cb -> listeners.values().forEach(l -> {
                    for (DownstreamProtocol p : DownstreamProtocol.values()) {
                        cb.call(Math.max(0, l.activeByProtocol[p.ordinal()].sum()), l.listener, p.metricName());
                    }
                })).register(registry);
        requestBytes = Counter.builder().name("h3relay_downstream_request_body_bytes")
                .help("Request body bytes received from clients").labelNames("listener", "protocol", "route")
                .withoutExemplars().register(registry);
        responseBytes = Counter.builder().name("h3relay_downstream_response_body_bytes")
                .help("Response body bytes sent to clients").labelNames("listener", "protocol", "route")
                .withoutExemplars().register(registry);
        connections = Counter.builder().name("h3relay_downstream_connections")
                .help("Downstream connections established (TCP after TLS and ALPN; QUIC after its handshake)")
                .labelNames("listener", "protocol").withoutExemplars().register(registry);
        connectionsActive = Gauge.builder().name("h3relay_downstream_connections_active")
                .help("Downstream connections open").labelNames("listener", "protocol").withoutExemplars()
                .register(registry);
        tlsFailures = Counter.builder().name("h3relay_downstream_tls_handshake_failures")
                .help("Failed TLS handshakes, by transport (tcp, or quic for HTTP/3)")
                .labelNames("listener", "transport").withoutExemplars().register(registry);
    }

    /** The series of one listener; one per listener name, shared by its connections. */
    ListenerSeries listener(String name) {
        return listeners.computeIfAbsent(name, ListenerSeries::new);
    }

    final class ListenerSeries {
        final String listener;
        private final LongAdder[] activeByProtocol = new LongAdder[DownstreamProtocol.values().length];
        @SuppressWarnings("unchecked")
        private final ConcurrentMap<String, RouteSeries>[] routes = new ConcurrentMap[DownstreamProtocol.values().length];

        ListenerSeries(String listener) {
            this.listener = listener;
            for (DownstreamProtocol p : DownstreamProtocol.values()) {
                activeByProtocol[p.ordinal()] = new LongAdder();
                routes[p.ordinal()] = new ConcurrentHashMap<>();
            }
        }

        LongAdder active(DownstreamProtocol protocol) {
            return activeByProtocol[protocol.ordinal()];
        }

        RouteSeries route(DownstreamProtocol protocol, String route) {
            ConcurrentMap<String, RouteSeries> m = routes[protocol.ordinal()];
            RouteSeries s = m.get(route);
            return s != null ? s : m.computeIfAbsent(route, r -> new RouteSeries(listener, protocol.metricName(), r));
        }
    }

    /** One (listener, protocol, route): request counters by method and status class, filled on first use. */
    final class RouteSeries {
        private final String listener;
        private final String protocol;
        private final String route;
        final DistributionDataPoint duration;
        final CounterDataPoint requestBytes;
        final CounterDataPoint responseBytes;
        /** By method index × status class index; filled lazily (a race fills a slot twice with the same point). */
        private final CounterDataPoint[] requests = new CounterDataPoint[Labels.METHODS.length * Labels.CLASSES.length];

        RouteSeries(String listener, String protocol, String route) {
            this.listener = listener;
            this.protocol = protocol;
            this.route = route;
            this.duration = DownstreamMetrics.this.duration.labelValues(listener, protocol, route);
            this.requestBytes = DownstreamMetrics.this.requestBytes.labelValues(listener, protocol, route);
            this.responseBytes = DownstreamMetrics.this.responseBytes.labelValues(listener, protocol, route);
        }

        CounterDataPoint requests(String method, int status) {
            int m = Labels.methodIndex(method);
            int c = Labels.classIndex(status);
            int i = m * Labels.CLASSES.length + c;
            CounterDataPoint p = requests[i];
            if (p == null) {
                p = DownstreamMetrics.this.requests.labelValues(listener, protocol, Labels.METHODS[m],
                        Labels.CLASSES[c], route);
                requests[i] = p;
            }
            return p;
        }
    }
}
