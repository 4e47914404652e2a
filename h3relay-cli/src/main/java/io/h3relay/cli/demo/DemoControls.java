package io.h3relay.cli.demo;

import io.h3relay.admin.AdminEndpoint;
import io.h3relay.admin.AdminRoute;
import io.h3relay.server.RelayServer;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The admin API routes only {@code h3relay demo} has (documented in docs/operations.md), which the control
 * center shows as its "Demo" panel when {@code GET /demo} answers:
 * <ul>
 *   <li>{@code GET /demo}: the demo endpoints (name, address, running) and the test traffic's state and counts;</li>
 *   <li>{@code POST /demo/endpoints/{name}/stop} and {@code /start}: stop a demo endpoint (it stops listening
 *       and drops its connections, as a crash would) or start it again on the same port;</li>
 *   <li>{@code POST /demo/traffic?enabled=true|false}: {@link DemoTraffic#RATE} requests per second through
 *       the plaintext listener, on or off.</li>
 * </ul>
 * Changes go through the admin server's token check like every admin change.
 */
public final class DemoControls {
    private final List<DemoEndpoint> endpoints;
    private final DemoTraffic traffic;

    public DemoControls(List<DemoEndpoint> endpoints, DemoTraffic traffic) {
        this.endpoints = endpoints;
        this.traffic = traffic;
    }

    public void register(RelayServer server) {
        server.adminRoute("GET", "/demo", r -> AdminRoute.json(200, json()));
        server.adminRoute("POST", "/demo/endpoints/{name}/stop", r -> endpointAction(r, false));
        server.adminRoute("POST", "/demo/endpoints/{name}/start", r -> endpointAction(r, true));
        server.adminRoute("POST", "/demo/traffic", r -> {
            String enabled = r.query("enabled");
            if (!"true".equals(enabled) && !"false".equals(enabled)) {
                return AdminRoute.error(400, "bad_request", "enabled: expected true or false, got " + enabled, "");
            }
            if (Boolean.parseBoolean(enabled)) {
                traffic.start();
            } else {
                traffic.stop();
            }
            return AdminRoute.json(200, json());
        });
    }

    private AdminEndpoint.Response endpointAction(AdminRoute.Request r, boolean start) throws InterruptedException {
        DemoEndpoint e = endpoints.stream().filter(x -> x.name().equals(r.param("name"))).findFirst().orElse(null);
        if (e == null) {
            return AdminRoute.error(404, "not_found", "no demo endpoint " + r.param("name") + " (there are "
                    + endpoints.stream().map(DemoEndpoint::name).collect(Collectors.joining(", ")) + ")", "");
        }
        if (start) {
            e.restart();
        } else {
            e.stop();
        }
        return AdminRoute.json(200, json());
    }

    String json() {
        String eps = endpoints.stream().map(e -> "{\"name\":\"" + e.name() + "\",\"address\":\"127.0.0.1:" + e.port()
                + "\",\"running\":" + e.running() + "}").collect(Collectors.joining(","));
        return "{\"endpoints\":[" + eps + "],\"traffic\":{\"running\":" + traffic.running() + ",\"rate\":"
                + DemoTraffic.RATE + ",\"sent\":" + traffic.sent() + ",\"ok\":" + traffic.ok() + ",\"failed\":"
                + traffic.failed() + "}}\n";
    }
}
