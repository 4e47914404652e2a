package io.h3relay.server;

import io.h3relay.cluster.Cluster;
import io.h3relay.config.ListenerConfig;
import io.h3relay.config.Protocol;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.endpoint.EndpointHealth;
import io.h3relay.telemetry.Json;
import io.h3relay.telemetry.Telemetry;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Admin {@code GET /status}: what the control center shows, in one call (it polls it every second and turns
 * the counters into rates itself): per listener its protocols, whether HTTP/3 is on, open connections and
 * requests by protocol; per endpoint its health, operator state, requests in flight, responses and errors
 * so far and its latency histogram (bucket counts, so the page computes p99 over its own interval). Counters
 * are absent (null) when metrics are off.
 */
final class StatusJson {
    private StatusJson() {
    }

    static String render(RelayServer server) {
        Telemetry t = server.telemetry();
        Map<String, Double> connections = sum(t.series("h3relay_downstream_connections_active"), "listener", "protocol");
        Map<String, Double> requests = sum(t.series("h3relay_downstream_requests"), "listener", "protocol");
        Map<String, Double> responses = sum(t.series("h3relay_upstream_requests"), "cluster", "endpoint");
        Map<String, Double> errors5xx = new HashMap<>();
        for (var e : t.series("h3relay_upstream_requests")) {
            if ("5xx".equals(e.getKey().get("code_class"))) {
                errors5xx.merge(key(e.getKey(), "cluster", "endpoint"), e.getValue(), Double::sum);
            }
        }
        Map<String, Double> failures = sum(t.series("h3relay_upstream_attempt_failures"), "cluster", "endpoint");
        Map<String, double[][]> latency = new HashMap<>();
        for (var e : t.histogram("h3relay_upstream_request_duration_seconds")) {
            latency.merge(key(e.getKey(), "cluster", "endpoint"), e.getValue(), (a, b) -> {
                for (int i = 0; i < a[1].length && i < b[1].length; i++) {
                    a[1][i] += b[1][i];
                }
                return a;
            });
        }
        boolean metrics = server.config().observability().metrics().enabled();

        StringBuilder b = new StringBuilder("{");
        Json.field(b, "generation", server.runtime().generation());
        Json.name(b, "draining").append(server.isDraining());
        Json.name(b, "auth_required").append(server.config().admin().authToken() != null);
        Json.name(b, "metrics").append(metrics);
        Json.field(b, "grafana_url", server.config().admin().grafanaUrl());
        Json.field(b, "config_file", server.reloads().file() == null ? null : server.reloads().file().toString());
        Json.name(b, "listeners").append('[');
        boolean first = true;
        for (ListenerConfig lc : server.config().listeners()) {
            b.append(first ? "" : ",").append('{');
            first = false;
            Json.field(b, "name", lc.name());
            java.net.InetSocketAddress bound = server.listenerAddress(lc.name());
            Json.field(b, "address",
                    new io.h3relay.config.HostPort(bound.getAddress().getHostAddress(), bound.getPort()).toString());
            Json.field(b, "tls", String.valueOf(lc.tls() != null));
            Json.name(b, "protocols").append('[');
            boolean p1 = true;
            for (Protocol p : lc.protocols()) {
                Json.string(b.append(p1 ? "" : ","), p.configName());
                p1 = false;
            }
            b.append(']');
            Json.name(b, "http3_configured").append(lc.protocols().contains(Protocol.HTTP3));
            Json.name(b, "http3_enabled").append(server.http3Enabled(lc.name()));
            Json.name(b, "connections").append('{');
            for (String proto : List.of("h1", "h2", "h3")) {
                Json.name(b, proto);
                number(b, metrics, connections.get(lc.name() + "|" + proto));
            }
            b.append('}');
            Json.name(b, "requests").append('{');
            for (String proto : List.of("h1", "h2", "h3")) {
                Json.name(b, proto);
                number(b, metrics, requests.get(lc.name() + "|" + proto));
            }
            b.append("}}");
        }
        b.append(']');
        Json.name(b, "clusters").append('[');
        first = true;
        for (Cluster c : server.clusters().values()) {
            b.append(first ? "" : ",").append('{');
            first = false;
            Json.field(b, "name", c.name());
            Json.field(b, "protocol", c.config().protocol().configName());
            Json.field(b, "load_balancer", c.config().loadBalancer().configName());
            Json.name(b, "panic").append(c.snapshot().panic());
            Json.name(b, "health_checked").append(c.config().healthCheck() != null);
            Json.name(b, "endpoints").append('[');
            boolean fe = true;
            for (Endpoint e : c.endpoints()) {
                EndpointHealth h = e.health();
                String k = c.name() + "|" + e;
                b.append(fe ? "" : ",").append('{');
                fe = false;
                Json.field(b, "address", e.toString());
                Json.field(b, "weight", e.weight());
                Json.name(b, "healthy").append(h.isAvailable());
                Json.name(b, "failing_checks").append(!h.isCheckHealthy());
                Json.name(b, "ejected").append(h.isEjected());
                Json.field(b, "state", h.adminState().configName());
                Json.field(b, "active_requests", e.activeRequests());
                if (h.lastCheckFailure() != null) {
                    Json.field(b, "last_check_failure", h.lastCheckFailure());
                }
                Json.name(b, "responses");
                number(b, metrics, responses.get(k));
                Json.name(b, "errors");
                number(b, metrics, metrics ? errors5xx.getOrDefault(k, 0.0) + failures.getOrDefault(k, 0.0) : null);
                double[][] l = latency.get(k);
                if (l != null) {
                    Json.name(b, "latency").append("{\"le\":[");
                    for (int i = 0; i < l[0].length; i++) {
                        b.append(i == 0 ? "" : ",").append(Double.isInfinite(l[0][i]) ? "null" : Double.toString(l[0][i]));
                    }
                    b.append("],\"counts\":[");
                    for (int i = 0; i < l[1].length; i++) {
                        b.append(i == 0 ? "" : ",").append((long) l[1][i]);
                    }
                    b.append("]}");
                }
                b.append('}');
            }
            b.append("]}");
        }
        return b.append("]}\n").toString();
    }

    private static void number(StringBuilder b, boolean metrics, Double v) {
        if (!metrics) {
            b.append("null");
        } else {
            b.append(v == null ? 0 : (long) (double) v);
        }
    }

    private static String key(Map<String, String> labels, String a, String b) {
        String second = labels.get(b);
        if (b.equals("protocol") && second != null && second.startsWith("http/1")) {
            second = "h1"; // http/1.1 and http/1.0
        }
        return labels.get(a) + "|" + second;
    }

    private static Map<String, Double> sum(List<Map.Entry<Map<String, String>, Double>> series, String a, String b) {
        Map<String, Double> out = new HashMap<>();
        for (var e : series) {
            out.merge(key(e.getKey(), a, b), e.getValue(), Double::sum);
        }
        return out;
    }
}
