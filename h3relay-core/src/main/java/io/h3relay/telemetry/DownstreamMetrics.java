package io.h3relay.telemetry;

import io.h3relay.config.ListenerConfig;
import io.h3relay.config.Protocol;
import io.h3relay.exchange.DownstreamProtocol;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Downstream metrics: requests, their duration and bodies by listener, protocol and route; connections by
 * protocol; TLS handshake failures. What moves per request (requests, duration, body bytes, active requests)
 * is counted in {@link ShardedCells}: plain adds on the event loop's own shard, summed at scrape. The cells
 * of an exchange's series are found once per (listener, protocol, route), so the hot path is a map hit and a
 * few array adds. Connections (a few per thousand requests) use the Prometheus client's own metrics.
 */
final class DownstreamMetrics {
    /** Seconds; from 1 ms (a loopback hit) to a minute (a slow upload or a long poll). */
    static final double[] DURATION_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
            10, 30, 60};

    final ShardedCells cells;
    private final ShardedMetrics.Counter requests;
    private final ShardedMetrics.Histogram duration;
    private final ShardedMetrics.Counter requestBytes;
    private final ShardedMetrics.Counter responseBytes;
    final Counter connections;
    final Gauge connectionsActive;
    final Counter tlsFailures;
    private final ConcurrentMap<String, ListenerSeries> listeners = new ConcurrentHashMap<>();

    DownstreamMetrics(PrometheusRegistry registry, ShardedMetrics sharded) {
        cells = sharded.cells;
        requests = sharded.counter("h3relay_downstream_requests",
                "Downstream requests answered, by listener, protocol, method, status class and route",
                "listener", "protocol", "method", "code_class", "route");
        duration = sharded.histogram("h3relay_downstream_request_duration_seconds",
                "Time from the request head to the last response byte written", DURATION_BUCKETS,
                "listener", "protocol", "route");
        GaugeWithCallback.builder().name("h3relay_downstream_requests_active")
                .help("Downstream requests in progress").labelNames("listener", "protocol")
                .callback(cb -> listeners.values().forEach(l -> {
                    for (DownstreamProtocol p : DownstreamProtocol.values()) {
                        long active = cells.sum(l.active(p));
                        if (l.exports(p) || active != 0) {
                            cb.call(Math.max(0, active), l.listener, p.metricName());
                        }
                    }
                })).register(registry);
        requestBytes = sharded.counter("h3relay_downstream_request_body_bytes",
                "Request body bytes received from clients", "listener", "protocol", "route");
        responseBytes = sharded.counter("h3relay_downstream_response_body_bytes",
                "Response body bytes sent to clients", "listener", "protocol", "route");
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

    /**
     * The protocols a listener can serve, whose series it exports from the start (at zero): h1 (1.0 and 1.1)
     * with {@code http1}, h2 with {@code http2} or {@code h2c}, h3 with {@code http3}. A plaintext listener
     * has no h3 series. Another protocol's series appear only if it is ever used (an ALPN fallback to h1).
     */
    static Set<DownstreamProtocol> served(ListenerConfig config) {
        EnumSet<DownstreamProtocol> served = EnumSet.noneOf(DownstreamProtocol.class);
        Set<Protocol> p = config.protocols();
        if (p.contains(Protocol.HTTP1)) {
            served.add(DownstreamProtocol.HTTP_1_0);
            served.add(DownstreamProtocol.HTTP_1_1);
        }
        if (p.contains(Protocol.HTTP2) || p.contains(Protocol.H2C)) {
            served.add(DownstreamProtocol.H2);
        }
        if (p.contains(Protocol.HTTP3)) {
            served.add(DownstreamProtocol.H3);
        }
        return served;
    }

    /** The series of one listener; one per listener name, shared by its connections. */
    ListenerSeries listener(String name, Set<DownstreamProtocol> served) {
        return listeners.computeIfAbsent(name, n -> new ListenerSeries(n, served));
    }

    final class ListenerSeries {
        final String listener;
        private final Set<DownstreamProtocol> served;
        /** Requests in progress by protocol: the cell is incremented and decremented, its sum is the gauge. */
        private final int activeCells = cells.allocate(DownstreamProtocol.values().length);
        @SuppressWarnings("unchecked")
        private final ConcurrentMap<String, RouteSeries>[] routes = new ConcurrentMap[DownstreamProtocol.values().length];

        ListenerSeries(String listener, Set<DownstreamProtocol> served) {
            this.listener = listener;
            this.served = Set.copyOf(served);
            for (DownstreamProtocol p : DownstreamProtocol.values()) {
                routes[p.ordinal()] = new ConcurrentHashMap<>();
            }
        }

        /** Whether the listener's series of {@code protocol} are exported: it serves it, or served a request on it. */
        boolean exports(DownstreamProtocol protocol) {
            return served.contains(protocol) || !routes[protocol.ordinal()].isEmpty();
        }

        int active(DownstreamProtocol protocol) {
            return activeCells + protocol.ordinal();
        }

        RouteSeries route(DownstreamProtocol protocol, String route) {
            ConcurrentMap<String, RouteSeries> m = routes[protocol.ordinal()];
            RouteSeries s = m.get(route);
            return s != null ? s : m.computeIfAbsent(route, r -> new RouteSeries(listener, protocol.metricName(), r));
        }
    }

    /** One (listener, protocol, route): its cells, the request counters by method and status class on first use. */
    final class RouteSeries {
        private final String listener;
        private final String protocol;
        private final String route;
        final int duration;
        final int requestBytes;
        final int responseBytes;
        /** Cells by method index × status class index; -1 until first used (a race finds the same cell twice). */
        private final int[] requests = new int[Labels.METHODS.length * Labels.CLASSES.length];

        RouteSeries(String listener, String protocol, String route) {
            this.listener = listener;
            this.protocol = protocol;
            this.route = route;
            this.duration = DownstreamMetrics.this.duration.series(listener, protocol, route);
            this.requestBytes = DownstreamMetrics.this.requestBytes.series(listener, protocol, route);
            this.responseBytes = DownstreamMetrics.this.responseBytes.series(listener, protocol, route);
            Arrays.fill(requests, -1);
        }

        int requests(String method, int status) {
            int m = Labels.methodIndex(method);
            int c = Labels.classIndex(status);
            int i = m * Labels.CLASSES.length + c;
            int cell = requests[i];
            if (cell < 0) {
                cell = DownstreamMetrics.this.requests.series(listener, protocol, Labels.METHODS[m], Labels.CLASSES[c],
                        route);
                requests[i] = cell;
            }
            return cell;
        }

        void observeDuration(ShardedCells.Shard shard, long nanos) {
            DownstreamMetrics.this.duration.observe(shard, duration, nanos);
        }
    }
}
