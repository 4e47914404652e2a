package io.h3relay.server;

import io.h3relay.telemetry.Json;
import io.h3relay.telemetry.ConfigJson;
import io.h3relay.admin.AdminEndpoint;
import io.h3relay.cluster.Cluster;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.upstream.UpstreamPool;
import io.h3relay.config.ListenerConfig;
import io.h3relay.config.Protocol;
import io.h3relay.listener.ListenerContext;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpHeaders;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Admin {@code /introspect}: what this process is doing, as JSON. The effective config (secrets redacted),
 * each listener with its protocols, bound addresses and open connections, the routes, and each cluster
 * with its endpoints' health, active requests, pool and counters (the counters need metrics on).
 */
public final class IntrospectEndpoint implements AdminEndpoint {
    private final RelayServer server;
    private final Predicate<Endpoint> healthy;

    public IntrospectEndpoint(RelayServer server, Predicate<Endpoint> healthy) {
        this.server = server;
        this.healthy = healthy;
    }

    @Override
    public Response serve(HttpHeaders requestHeaders) {
        StringBuilder out = new StringBuilder(8192).append('{');
        Json.name(out, "draining").append(server.isDraining());
        Json.name(out, "listeners").append('[');
        for (String name : server.listenerNames()) {
            listener(out, name);
        }
        out.append(']');
        Json.name(out, "routes");
        ConfigJson.append(out, server.config().routes());
        Json.name(out, "clusters").append('[');
        for (Cluster c : server.clusters().values()) {
            cluster(out, c);
        }
        out.append(']');
        Json.name(out, "config");
        ConfigJson.append(out, server.config());
        out.append("}\n");
        return new Response(200, "application/json", out.toString().getBytes(StandardCharsets.UTF_8));
    }

    private void listener(StringBuilder out, String name) {
        ListenerContext ctx = server.listenerContext(name);
        ListenerConfig cfg = ctx.config();
        element(out).append('{');
        Json.field(out, "name", name);
        Json.name(out, "protocols");
        ConfigJson.append(out, cfg.protocols());
        Json.name(out, "tls").append(cfg.isTls());
        Json.field(out, "tcp_address", server.listenerAddress(name).toString());
        if (cfg.protocols().contains(Protocol.HTTP3) && server.http3Listeners().containsKey(name)) {
            Json.name(out, "udp_addresses").append('[');
            for (Channel socket : server.http3Listeners().get(name).sockets()) {
                Json.string(element(out), String.valueOf(socket.localAddress()));
            }
            out.append(']');
        }
        Json.field(out, "connections", ctx.connectionCount());
        counter(out, "requests_total", "h3relay_downstream_requests", Map.of("listener", name));
        counter(out, "requests_active", "h3relay_downstream_requests_active", Map.of("listener", name));
        out.append('}');
    }

    private void cluster(StringBuilder out, Cluster c) {
        element(out).append('{');
        Json.field(out, "name", c.name());
        Json.field(out, "load_balancer", String.valueOf(c.config().loadBalancer()).toLowerCase());
        Json.name(out, "endpoints").append('[');
        for (Endpoint e : c.endpoints()) {
            UpstreamPool pool = c.pool(e);
            element(out).append('{');
            Json.field(out, "address", e.toString());
            Json.field(out, "weight", e.weight());
            Json.name(out, "healthy").append(healthy.test(e));
            Json.name(out, "check_healthy").append(e.health().isCheckHealthy());
            Json.name(out, "ejected").append(e.health().isEjected());
            Json.field(out, "ejections_total", e.health().totalEjections());
            Json.field(out, "active_requests", e.activeRequests());
            Json.field(out, "protocol", pool.protocol().alpn());
            Json.field(out, "pool_connections", pool.connectionCount());
            Json.field(out, "pool_idle", pool.idleCount());
            Json.field(out, "pool_pending", pool.pendingCount());
            if (pool instanceof io.h3relay.upstream.FallbackPool f) {
                // protocol http3 with or_lower: what the endpoint was seen to speak, and QUIC's state
                Json.name(out, "known_protocols").append('[');
                java.util.List<String> known = f.knownProtocols();
                for (int i = 0; i < known.size(); i++) {
                    out.append(i == 0 ? "" : ",").append('"').append(known.get(i)).append('"');
                }
                out.append(']');
                Json.name(out, "h3_broken").append(f.isH3Broken());
                Json.field(out, "h3_broken_for_ms", f.h3BrokenForMillis());
                Json.field(out, "quic_failures", f.quicFailures());
            }
            Map<String, String> labels = Map.of("cluster", c.name(), "endpoint", e.toString());
            counter(out, "responses_total", "h3relay_upstream_requests", labels);
            counter(out, "connect_failures_total", "h3relay_upstream_connect_failures", labels);
            out.append('}');
        }
        out.append("]}");
    }

    private void counter(StringBuilder out, String field, String metric, Map<String, String> labels) {
        Double v = server.telemetry().sum(metric, labels);
        if (v != null) {
            Json.name(out, field).append(v.longValue());
        }
    }

    /** A comma before an array element unless it is the first. */
    private static StringBuilder element(StringBuilder out) {
        if (out.charAt(out.length() - 1) != '[') {
            out.append(',');
        }
        return out;
    }
}
