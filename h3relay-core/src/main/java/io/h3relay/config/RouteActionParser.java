package io.h3relay.config;

import io.h3relay.config.RouteConfig.Redirect;
import io.h3relay.config.RouteConfig.Respond;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The actions a route takes without a cluster: {@code respond:} and {@code redirect:}. */
final class RouteActionParser {
    private static final Map<String, String> SCHEMES = new LinkedHashMap<>();
    private static final Map<String, Integer> REDIRECT_STATUSES = new LinkedHashMap<>();

    static {
        SCHEMES.put("http", "http");
        SCHEMES.put("https", "https");
        for (int s : new int[] {301, 302, 303, 307, 308}) {
            REDIRECT_STATUSES.put(Integer.toString(s), s);
        }
    }

    private RouteActionParser() {}

    private static final Map<String, String> BUILTINS = new LinkedHashMap<>();

    static {
        BUILTINS.put("healthz", "healthz");
        BUILTINS.put("readyz", "readyz");
    }

    /** {@code builtin: healthz | readyz} on the route, or null when absent (or invalid: reported). */
    static RouteConfig.Builtin builtin(YamlMap route) {
        String kind = route.oneOf("builtin", BUILTINS, null);
        return kind == null ? null : new RouteConfig.Builtin(kind);
    }

    static Respond respond(YamlMap m) {
        int status = m.integer("status", 200, 599, 200);
        String body = m.string("body", "");
        Map<String, String> headers = RouteParser.headerMap(m, "headers");
        m.finish();
        return new Respond(status, body == null ? "" : body, headers);
    }

    /**
     * Parts left out keep the request's own; so a redirect must change at least one part, or it would
     * send the client back to the same URL forever.
     */
    static Redirect redirect(YamlMap m) {
        String scheme = m.oneOf("scheme", SCHEMES, null);
        String host = m.value("host", "a host name such as www.example.com (no port)",
                t -> Addresses.isHostName(t) ? t.toLowerCase(Locale.ROOT) : null);
        Integer port = m.integer("port", 1, 65535);
        String path = m.value("path", "a path starting with /", t -> t.startsWith("/") ? t : null);
        int status = m.oneOf("status", REDIRECT_STATUSES, 301);
        if (!m.has("scheme") && !m.has("host") && !m.has("port") && !m.has("path")) {
            m.ctx().error(m.path(), "no target", "at least one of scheme, host, port, path", m.line());
        }
        m.finish();
        return new Redirect(scheme, host, port, path, status);
    }
}
