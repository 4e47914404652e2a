package io.h3relay.route;

import io.h3relay.cluster.Cluster;
import io.h3relay.config.RouteConfig;
import io.netty.handler.codec.http.HttpHeaders;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The routes of one listener, in declared order, compiled at config time. The first route whose host,
 * path and headers match and whose methods allow the request wins; if routes matched all but the
 * method, the answer is 405 with the union of their methods.
 */
public final class RouteTable {
    private final List<Route> routes;

    private RouteTable(List<Route> routes) {
        this.routes = List.copyOf(routes);
    }

    /** Compiles {@code names} (in order) from {@code configs}; forward routes resolve their cluster by name. */
    public static RouteTable compile(List<String> names, Map<String, RouteConfig> configs,
                                     Map<String, Cluster> clusters) {
        List<Route> compiled = new ArrayList<>(names.size());
        for (String name : names) {
            RouteConfig rc = configs.get(name);
            if (rc == null) {
                throw new IllegalArgumentException("unknown route: " + name);
            }
            Cluster cluster = null;
            if (rc.action() instanceof RouteConfig.Forward f) {
                cluster = clusters.get(f.cluster());
                if (cluster == null) {
                    throw new IllegalArgumentException("route " + name + ": unknown cluster " + f.cluster());
                }
            }
            compiled.add(new Route(rc, cluster));
        }
        return new RouteTable(compiled);
    }

    /**
     * @param host the Host / :authority value as received (port and case are normalized here)
     * @param path the request path without the query string
     */
    public RouteMatch match(String method, String host, String path, HttpHeaders headers) {
        return match(method, host, path, headers, false);
    }

    /**
     * @param upgrade the request asks for a WebSocket (an h1 Upgrade or an h2/h3 extended CONNECT): routes
     *                with {@code websocket: true} take nothing else (plain requests go on to the next
     *                routes); the first matching route with {@code websocket: false} refuses it
     *                ({@link RouteMatch.UpgradeNotAllowed}, 403).
     */
    public RouteMatch match(String method, String host, String path, HttpHeaders headers, boolean upgrade) {
        String normalizedHost = HostMatcher.normalize(host);
        TreeSet<String> allow = null;
        for (Route r : routes) {
            if (!r.matchesIgnoringMethod(normalizedHost, path, headers)) {
                continue;
            }
            if (!r.allowsUpgrade(upgrade)) {
                if (upgrade && allow == null) {
                    return new RouteMatch.UpgradeNotAllowed(r); // websocket: false is final, not a fall-through
                }
                continue; // websocket: true passes plain requests on to the routes below
            }
            if (r.allowsMethod(method)) {
                return new RouteMatch.Found(r);
            }
            if (allow == null) {
                allow = new TreeSet<>();
            }
            allow.addAll(r.methods());
        }
        return allow == null ? new RouteMatch.NotFound() : new RouteMatch.MethodNotAllowed(allow);
    }

    public List<Route> routes() {
        return routes;
    }
}
