package io.h3relay.telemetry;

import io.h3relay.exchange.ExchangeView;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * WebSocket sessions by listener and downstream protocol: open now, upgrades accepted, and the bytes
 * relayed each way ({@code direction="upstream"}: client to endpoint). A session is also one downstream
 * request in the request metrics (its duration is the session's). Sessions are rare next to requests, so
 * these are the Prometheus client's own (thread-safe) metrics rather than sharded cells.
 */
final class WebSocketMetrics {
    private final Gauge active;
    private final Counter upgrades;
    private final Counter bytes;

    WebSocketMetrics(PrometheusRegistry registry) {
        active = Gauge.builder().name("h3relay_websocket_sessions_active")
                .help("WebSocket sessions open now, by listener and downstream protocol")
                .labelNames("listener", "protocol").register(registry);
        upgrades = Counter.builder().name("h3relay_websocket_upgrades")
                .help("WebSocket upgrades accepted (h1 101, h2/h3 extended CONNECT 200), by listener and protocol")
                .labelNames("listener", "protocol").withoutExemplars().register(registry);
        bytes = Counter.builder().name("h3relay_websocket_bytes")
                .help("Bytes relayed by WebSocket sessions after the upgrade, by listener, protocol and direction"
                        + " (upstream: client to endpoint)")
                .labelNames("listener", "protocol", "direction").withoutExemplars().register(registry);
    }

    void opened(ExchangeView ex) {
        String listener = ex.listenerName();
        String protocol = ex.protocol().metricName();
        active.labelValues(listener, protocol).inc();
        upgrades.labelValues(listener, protocol).inc();
    }

    /** The session ended; the byte counts are the exchange's (the upgrade's own head has no body). */
    void closed(ExchangeView ex) {
        String listener = ex.listenerName();
        String protocol = ex.protocol().metricName();
        active.labelValues(listener, protocol).dec();
        bytes.labelValues(listener, protocol, "upstream").inc(ex.requestBodyBytes());
        bytes.labelValues(listener, protocol, "downstream").inc(ex.responseBodyBytes());
    }
}
