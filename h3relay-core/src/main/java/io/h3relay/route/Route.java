package io.h3relay.route;

import io.h3relay.cluster.Cluster;
import io.h3relay.config.RouteConfig;
import io.netty.handler.codec.http.HttpHeaders;

import java.time.Duration;
import java.util.LinkedHashSet;

import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A compiled route: matchers built once from {@link RouteConfig}, the action, and for forwarding routes the
 * resolved {@link Cluster}. Immutable; shared by every event loop.
 */
public final class Route {
    private final RouteConfig config;
    private final HostMatcher hosts;
    private final String exactPath;
    private final String pathPrefix;
    private final Pattern pathRegex;
    private final Set<String> methods; // empty = any
    private final Map<String, String> headers;
    /** match.websocket: true, upgrades only; false, never an upgrade; null, either. */
    private final Boolean websocket;
    private final Cluster cluster;     // null unless the action is Forward
    private final RetryPolicy retry;

    Route(RouteConfig config, Cluster cluster) {
        this.config = config;
        RouteConfig.Match m = config.match();
        this.hosts = new HostMatcher(m.hosts());
        this.exactPath = m.path();
        this.pathPrefix = m.pathPrefix();
        this.pathRegex = m.pathRegex() == null ? null : Pattern.compile(m.pathRegex());
        this.methods = new LinkedHashSet<>(m.methods());
        this.headers = m.headers();
        this.websocket = m.websocket();
        this.cluster = cluster;
        this.retry = config.retry() == null ? RetryPolicy.NONE : new RetryPolicy(config.retry());
    }

    /** Host, path and header conditions; the method is checked separately to tell 404 from 405. */
    boolean matchesIgnoringMethod(String host, String path, HttpHeaders requestHeaders) {
        if (!hosts.matches(host)) {
            return false;
        }
        if (exactPath != null && !exactPath.equals(path)) {
            return false;
        }
        if (pathPrefix != null && !path.startsWith(pathPrefix)) {
            return false;
        }
        if (pathRegex != null && !pathRegex.matcher(path).find()) {
            return false;
        }
        for (Map.Entry<String, String> h : headers.entrySet()) {
            if (!requestHeaders.containsValue(h.getKey(), h.getValue(), false)) {
                return false;
            }
        }
        return true;
    }

    /** Whether the route's {@code websocket} condition takes a request that is (or is not) an upgrade. */
    boolean allowsUpgrade(boolean upgrade) {
        return websocket == null || websocket == upgrade;
    }

    boolean allowsMethod(String method) {
        return methods.isEmpty() || methods.contains(method);
    }

    Set<String> methods() {
        return methods;
    }

    public String name() {
        return config.name();
    }

    public RouteConfig.Action action() {
        return config.action();
    }

    public Cluster cluster() {
        return cluster;
    }

    /** Whole-exchange timeout, all tries included, or null. */
    public Duration timeout() {
        return config.timeout();
    }

    public RetryPolicy retry() {
        return retry;
    }

    public RouteConfig.HeaderOps requestHeaders() {
        return config.requestHeaders();
    }

    public RouteConfig.HeaderOps responseHeaders() {
        return config.responseHeaders();
    }

    /** Applies strip_prefix then prefix to a request target (path and query). */
    public String rewrite(String uri) {
        RouteConfig.Rewrite rw = config.rewrite();
        if (rw == null) {
            return uri;
        }
        String out = uri;
        if (rw.stripPrefix() != null && out.startsWith(rw.stripPrefix())) {
            out = out.substring(rw.stripPrefix().length());
            if (out.isEmpty() || out.charAt(0) != '/') {
                out = "/" + out;
            }
        }
        if (rw.prefix() != null) {
            String p = rw.prefix().endsWith("/") ? rw.prefix().substring(0, rw.prefix().length() - 1) : rw.prefix();
            out = p + out;
        }
        return out;
    }

    @Override
    public String toString() {
        return "Route[" + config.name() + "]";
    }

}
