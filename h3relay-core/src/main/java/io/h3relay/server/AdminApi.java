package io.h3relay.server;

import io.h3relay.admin.AdminEndpoint;
import io.h3relay.admin.AdminRoute;
import io.h3relay.admin.AdminServer;
import io.h3relay.cluster.Cluster;
import io.h3relay.config.ClusterConfig;
import io.h3relay.config.HostPort;
import io.h3relay.config.RelayConfig;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.endpoint.EndpointHealth.AdminState;
import io.h3relay.events.EventLog;
import io.h3relay.telemetry.ConfigJson;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The admin API's routes that change or read the running config (see docs/operations.md):
 * <pre>
 *   GET  /config                     effective config, secrets redacted
 *   PUT  /config[?persist=true]      a whole new config (YAML or JSON): validated, applied atomically
 *   POST /config/reload              the config file again (as SIGHUP)
 *   POST /clusters/{c}/endpoints/{e}/drain | enable | disable
 *   POST /clusters/{c}/endpoints     {"address": "host:port", "weight": 1}: adds an endpoint
 *   DELETE /clusters/{c}/endpoints/{e}   removes one
 * </pre>
 */
final class AdminApi {
    private static final Logger LOG = LoggerFactory.getLogger(AdminApi.class);

    private final RelayServer server;
    private final ConfigReloads reloads;
    private final EventLog events;
    /** The server's event loop groups (TCP first; under io_uring the QUIC loops second). */
    private final List<? extends EventLoopGroup> loops;

    AdminApi(RelayServer server, ConfigReloads reloads, EventLog events, List<? extends EventLoopGroup> loops) {
        this.server = server;
        this.reloads = reloads;
        this.events = events;
        this.loops = loops;
    }

    void register(AdminServer admin) {
        admin.route("GET", "/config", r -> {
            StringBuilder b = new StringBuilder();
            ConfigJson.append(b, server.config());
            return AdminRoute.json(200, b.append('\n').toString());
        });
        admin.route("PUT", "/config", r -> {
            String persist = r.query("persist");
            if (persist != null && !persist.equals("true") && !persist.equals("false")) {
                return AdminRoute.error(400, "bad_request", "persist: expected true or false, got " + persist, "");
            }
            if (r.body().length == 0) {
                return AdminRoute.error(400, "bad_request", "send the whole config (YAML or JSON) as the body", "");
            }
            return result(reloads.applyText(r.bodyText(), "PUT /config", "true".equals(persist)));
        });
        admin.route("POST", "/config/reload", r -> result(reloads.reloadFile("POST /config/reload")));
        for (String action : new String[] {"drain", "enable", "disable"}) {
            admin.route("POST", "/clusters/{cluster}/endpoints/{endpoint}/" + action, r -> endpointAction(r, action));
        }
        admin.route("POST", "/clusters/{cluster}/endpoints", this::addEndpoint);
        admin.route("DELETE", "/clusters/{cluster}/endpoints/{endpoint}", this::removeEndpoint);
        admin.route("POST", "/listeners/{listener}/http3", this::toggleHttp3);
        admin.route("GET", "/status", r -> AdminRoute.json(200, StatusJson.render(server)));
    }

    private AdminEndpoint.Response toggleHttp3(AdminRoute.Request r) {
        String enabled = r.query("enabled");
        if (!"true".equals(enabled) && !"false".equals(enabled)) {
            return AdminRoute.error(400, "bad_request", "enabled: expected true or false, got " + enabled, "");
        }
        String name = r.param("listener");
        RelayServer.Http3Toggle t;
        try {
            t = server.http3(name, Boolean.parseBoolean(enabled));
        } catch (StartException e) {
            return AdminRoute.error(409, "conflict", e.getMessage(), "");
        }
        return switch (t) {
            case NO_SUCH_LISTENER -> AdminRoute.error(404, "not_found", "no listener " + name, "");
            case NOT_CONFIGURED -> AdminRoute.error(409, "conflict", "listener " + name
                    + " has no http3 in its protocols (adding it takes a restart)", "");
            default -> AdminRoute.json(200, "{\"listener\":" + quote(name) + ",\"http3\":" + server.http3Enabled(name)
                    + ",\"changed\":" + (t != RelayServer.Http3Toggle.ALREADY) + "}\n");
        };
    }

    private static AdminEndpoint.Response result(ConfigReloads.Result r) {
        return AdminRoute.json(r.status(), r.json());
    }

    private AdminEndpoint.Response endpointAction(AdminRoute.Request r, String action) {
        Cluster c = server.clusters().get(r.param("cluster"));
        if (c == null) {
            return AdminRoute.error(404, "not_found", "no cluster " + r.param("cluster"), "");
        }
        Endpoint e = c.endpoint(r.param("endpoint"));
        if (e == null) {
            return AdminRoute.error(404, "not_found", "cluster " + c.name() + " has no endpoint " + r.param("endpoint")
                    + " (endpoints are named host:port as in the config)", "");
        }
        AdminState before = e.health().adminState();
        AdminState next = switch (action) {
            case "drain" -> before == AdminState.DRAINED ? AdminState.DRAINED : AdminState.DRAINING;
            case "enable" -> AdminState.ENABLED;
            default -> AdminState.DISABLED;
        };
        c.adminState(e, next);
        LOG.info("cluster {} endpoint {}: {} ({} requests in flight)", c.name(), e, next.configName(),
                e.activeRequests());
        events.publish(action, Map.of("cluster", c.name(), "endpoint", e.toString(), "state", next.configName(),
                "active_requests", e.activeRequests()));
        if (next == AdminState.DRAINING) {
            watchDrain(c, e);
        }
        return AdminRoute.json(next == AdminState.DRAINING ? 202 : 200, "{\"cluster\":" + quote(c.name())
                + ",\"endpoint\":" + quote(e.toString()) + ",\"state\":" + quote(next.configName())
                + ",\"active_requests\":" + e.activeRequests() + "}\n");
    }

    /**
     * Once every event loop has run a task past the snapshot without the endpoint (no exchange can pick it
     * after that), waits for its requests in flight to end, then marks it {@code drained}.
     */
    private void watchDrain(Cluster c, Endpoint e) {
        List<Future<?>> barrier = io.h3relay.transport.LoopBarrier.submit(loops);
        EventExecutor timer = loops.get(0).next();
        Runnable[] poll = new Runnable[1];
        poll[0] = () -> {
            if (e.health().adminState() != AdminState.DRAINING) {
                return; // enabled or disabled meanwhile
            }
            if (e.activeRequests() > 0 || barrier.stream().anyMatch(f -> !f.isDone())) {
                if (!timer.isShuttingDown()) {
                    timer.schedule(poll[0], 50, TimeUnit.MILLISECONDS);
                }
                return;
            }
            c.adminState(e, AdminState.DRAINED);
            LOG.info("cluster {} endpoint {}: drained", c.name(), e);
            events.publish("drained", Map.of("cluster", c.name(), "endpoint", e.toString(), "state", "drained"));
        };
        timer.schedule(poll[0], 20, TimeUnit.MILLISECONDS);
    }

    private AdminEndpoint.Response addEndpoint(AdminRoute.Request r) {
        RelayConfig config = server.config();
        ClusterConfig cc = cluster(config, r.param("cluster"));
        if (cc == null) {
            return AdminRoute.error(404, "not_found", "no cluster " + r.param("cluster"), "");
        }
        Map<?, ?> body;
        try {
            Object parsed = new org.snakeyaml.engine.v2.api.Load(
                    org.snakeyaml.engine.v2.api.LoadSettings.builder().build()).loadFromString(r.bodyText());
            body = parsed instanceof Map<?, ?> m ? m : null;
        } catch (RuntimeException e) {
            body = null;
        }
        Object addressValue = body == null ? null : body.get("address");
        HostPort address = addressValue instanceof String s ? HostPort.parse(s) : null;
        if (address == null) {
            return AdminRoute.error(400, "bad_request",
                    "expected a JSON body {\"address\": \"host:port\", \"weight\": 1} (weight optional)", "");
        }
        Object w = body.get("weight");
        if (w != null && !(w instanceof Integer i && i >= 1 && i <= 1000)) {
            return AdminRoute.error(400, "bad_request", "weight: expected a whole number 1-1000, got " + w, "");
        }
        for (ClusterConfig.EndpointConfig ec : cc.endpoints()) {
            if (ec.address().equals(address)) {
                return AdminRoute.error(409, "conflict", "cluster " + cc.name() + " already has " + address, "");
            }
        }
        List<ClusterConfig.EndpointConfig> eps = new ArrayList<>(cc.endpoints());
        eps.add(new ClusterConfig.EndpointConfig(address, w == null ? 1 : (Integer) w));
        return result(reloads.apply(withEndpoints(config, cc, eps), "POST /clusters/" + cc.name() + "/endpoints",
                Map.of("cluster", cc.name(), "endpoint_added", address.toString())));
    }

    private AdminEndpoint.Response removeEndpoint(AdminRoute.Request r) {
        RelayConfig config = server.config();
        ClusterConfig cc = cluster(config, r.param("cluster"));
        if (cc == null) {
            return AdminRoute.error(404, "not_found", "no cluster " + r.param("cluster"), "");
        }
        List<ClusterConfig.EndpointConfig> eps = new ArrayList<>(cc.endpoints());
        if (!eps.removeIf(ec -> ec.address().toString().equals(r.param("endpoint")))) {
            return AdminRoute.error(404, "not_found", "cluster " + cc.name() + " has no endpoint " + r.param("endpoint"), "");
        }
        if (eps.isEmpty()) {
            return AdminRoute.error(409, "conflict", "cluster " + cc.name() + " would have no endpoint left", "");
        }
        return result(reloads.apply(withEndpoints(config, cc, eps), "DELETE /clusters/" + cc.name() + "/endpoints",
                Map.of("cluster", cc.name(), "endpoint_removed", r.param("endpoint"))));
    }

    private static ClusterConfig cluster(RelayConfig config, String name) {
        return config.clusters().stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
    }

    private static RelayConfig withEndpoints(RelayConfig config, ClusterConfig cc,
                                             List<ClusterConfig.EndpointConfig> endpoints) {
        ClusterConfig changed = new ClusterConfig(cc.name(), cc.protocol(), cc.loadBalancer(), cc.hashOn(), endpoints,
                cc.connectTimeout(), cc.pool(), cc.tls(), cc.healthCheck(), cc.outlierDetection(),
                cc.circuitBreaker(), cc.retryBudget());
        List<ClusterConfig> clusters = config.clusters().stream().map(c -> c == cc ? changed : c).toList();
        return new RelayConfig(config.admin(), config.listeners(), config.routes(), clusters,
                config.observability(), config.shutdown());
    }

    private static String quote(String s) {
        return io.h3relay.telemetry.Json.string(new StringBuilder(), s).toString();
    }

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
