package io.h3relay.config;

import io.h3relay.config.RouteConfig.Action;
import io.h3relay.config.RouteConfig.Forward;
import io.h3relay.config.RouteConfig.HeaderOps;
import io.h3relay.config.RouteConfig.Match;
import io.h3relay.config.RouteConfig.Retry;
import io.h3relay.config.RouteConfig.Rewrite;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One entry of {@code routes:}: its match, its single action, and the forward-only settings. The
 * {@code respond} and {@code redirect} actions live in {@link RouteActionParser}.
 */
final class RouteParser {
    static final String ACTIONS = "cluster, respond, redirect, builtin";
    private static final Pattern METHOD = Pattern.compile("[A-Z][A-Z_-]*");
    private static final Pattern HEADER_NAME = Pattern.compile("[a-z0-9!#$%&'*+.^_`|~-]+");
    private static final Pattern RETRY_STATUS = Pattern.compile("[45][0-9][0-9]");
    private static final List<String> RETRY_CONDITIONS = List.of("connect-failure", "refused-stream", "reset");
    /** gRPC statuses of trailers-only responses that may be retried (as Envoy's retry_on grpc conditions). */
    private static final List<String> RETRY_GRPC = List.of("cancelled", "deadline_exceeded", "internal",
            "resource_exhausted", "unavailable");
    static final String HEADER_EXPECTED = "a header name such as x-request-id";

    private RouteParser() {}

    static RouteConfig parse(YamlMap m) {
        String name = m.name("route");
        YamlMap matchMap = m.map("match");
        Match match = matchMap == null ? new Match(List.of(), null, null, null, List.of(), Map.of(), null) : match(matchMap);
        Action action = action(m);
        YamlMap rewriteMap = m.map("rewrite");
        Rewrite rewrite = rewriteMap == null ? null : rewrite(rewriteMap);
        Duration timeout = m.positiveDuration("timeout", null);
        YamlMap retryMap = m.map("retry");
        Retry retry = retryMap == null ? null : retry(retryMap);
        if (action != null && !(action instanceof Forward)) {
            for (String key : List.of("rewrite", "timeout", "retry")) {
                if (m.has(key)) {
                    m.notAllowed(key, "no " + key + " on a route that does not forward to a cluster");
                }
            }
        }
        HeaderOps requestHeaders = headerOps(m, "request_headers");
        HeaderOps responseHeaders = headerOps(m, "response_headers");
        YamlMap policiesMap = m.map("policies");
        PoliciesConfig policies = policiesMap == null ? PoliciesConfig.NONE : PoliciesParser.parse(policiesMap, true);
        m.finish();
        return new RouteConfig(name, match, action, rewrite, timeout, retry, requestHeaders, responseHeaders,
                policies);
    }

    /** Exactly one of cluster, respond, redirect; the cluster name is checked against clusters later. */
    private static Action action(YamlMap m) {
        String cluster = m.string("cluster");
        YamlMap respond = m.map("respond");
        YamlMap redirect = m.map("redirect");
        List<String> present = new ArrayList<>();
        for (String key : List.of("cluster", "respond", "redirect", "builtin")) {
            if (m.has(key)) {
                present.add(key);
            }
        }
        if (present.isEmpty()) {
            m.ctx().error(m.path(), "no action", "exactly one of " + ACTIONS, m.line());
        }
        for (String extra : present.subList(Math.min(1, present.size()), present.size())) {
            m.notAllowed(extra, "only one of " + ACTIONS + "; " + present.get(0) + " is set at line "
                    + m.lineOf(present.get(0)));
        }
        Action respondAction = respond == null ? null : RouteActionParser.respond(respond);
        Action redirectAction = redirect == null ? null : RouteActionParser.redirect(redirect);
        Action builtinAction = RouteActionParser.builtin(m);
        if (present.size() != 1) {
            return null;
        }
        return switch (present.get(0)) {
            case "cluster" -> cluster == null ? null : new Forward(cluster);
            case "respond" -> respondAction;
            case "builtin" -> builtinAction;
            default -> redirectAction;
        };
    }

    private static Match match(YamlMap m) {
        List<String> hosts = new ArrayList<>();
        for (Scalar s : m.scalars("hosts", "a host such as api.example.com, *.example.com or *")) {
            String h = Addresses.hostPattern(s.text());
            if (h == null) {
                m.ctx().invalid(s, "a host such as api.example.com, *.example.com or * (no port)");
            } else {
                hosts.add(h);
            }
        }
        String path = m.value("path", "a path starting with /", RouteParser::absolutePath);
        String prefix = m.value("path_prefix", "a path prefix starting with /", RouteParser::absolutePath);
        String regex = m.value("path_regex", "a Java regular expression", t -> {
            try {
                Pattern.compile(t);
                return t;
            } catch (PatternSyntaxException e) {
                return null;
            }
        });
        List<String> written = new ArrayList<>();
        for (String key : List.of("path", "path_prefix", "path_regex")) {
            if (m.has(key)) {
                written.add(key);
            }
        }
        for (String extra : written.subList(Math.min(1, written.size()), written.size())) {
            m.notAllowed(extra, "only one of path, path_prefix, path_regex; " + written.get(0) + " is set");
        }
        List<String> methods = new ArrayList<>();
        for (Scalar s : m.scalars("methods", "an HTTP method such as GET")) {
            String method = s.text().toUpperCase(Locale.ROOT);
            if (!METHOD.matcher(method).matches()) {
                m.ctx().invalid(s, "an HTTP method such as GET");
            } else if (!methods.contains(method)) {
                methods.add(method);
            }
        }
        Map<String, String> headers = headerMap(m, "headers");
        Boolean websocket = m.has("websocket") ? m.bool("websocket", false) : null;
        m.finish();
        return new Match(hosts, path, prefix, regex, methods, headers, websocket);
    }

    private static String absolutePath(String t) {
        return t.startsWith("/") ? t : null;
    }

    private static Rewrite rewrite(YamlMap m) {
        String strip = m.value("strip_prefix", "a path prefix starting with /", RouteParser::absolutePath);
        String prefix = m.value("prefix", "a path prefix starting with /", RouteParser::absolutePath);
        if (!m.has("strip_prefix") && !m.has("prefix")) {
            m.ctx().error(m.path(), "{}", "strip_prefix, prefix or both", m.line());
        }
        m.finish();
        return new Rewrite(strip, prefix);
    }

    private static Retry retry(YamlMap m) {
        Integer attempts = m.integer("attempts", 1, 10);
        if (!m.has("attempts")) {
            m.missing("attempts", "total tries including the first, an integer 1-10");
        }
        List<String> on = new ArrayList<>();
        String expected = "one of " + String.join(", ", RETRY_CONDITIONS) + ", a status 400-599 such as \"503\", or a"
                + " gRPC status: " + String.join(", ", RETRY_GRPC);
        for (Scalar s : m.scalars("on", expected)) {
            if (RETRY_CONDITIONS.contains(s.text()) || RETRY_GRPC.contains(s.text())
                    || RETRY_STATUS.matcher(s.text()).matches()) {
                on.add(s.text());
            } else {
                m.ctx().invalid(s, expected);
            }
        }
        if (m.isEmptyList("on")) {
            m.ctx().error(m.path("on"), "[]", "at least one retry condition: " + expected, m.lineOf("on"));
        }
        if (!m.has("on")) {
            on.addAll(List.of("connect-failure", "refused-stream"));
        }
        Duration perTry = m.positiveDuration("per_try_timeout", null);
        long replayLimit = m.size("replay_limit", 0, 64L * 1024 * 1024, Retry.DEFAULT_REPLAY_LIMIT);
        Duration base = Duration.ofMillis(25);
        Duration max = Duration.ofMillis(250);
        YamlMap backoff = m.map("backoff");
        if (backoff != null) {
            base = backoff.positiveDuration("base", base);
            max = backoff.positiveDuration("max", max);
            if (base.compareTo(max) > 0) {
                backoff.notAllowed("max", "at least base (" + Durations.format(base) + ")");
            }
            backoff.finish();
        }
        m.finish();
        return new Retry(attempts == null ? 1 : attempts, on, perTry, base, max, replayLimit);
    }

    private static HeaderOps headerOps(YamlMap parent, String key) {
        YamlMap m = parent.map(key);
        if (m == null) {
            return HeaderOps.NONE;
        }
        Map<String, String> add = headerMap(m, "add");
        List<String> remove = new ArrayList<>();
        for (Scalar s : m.scalars("remove", HEADER_EXPECTED)) {
            String h = s.text().toLowerCase(Locale.ROOT);
            if (HEADER_NAME.matcher(h).matches()) {
                remove.add(h);
            } else {
                m.ctx().invalid(s, HEADER_EXPECTED);
            }
        }
        m.finish();
        return new HeaderOps(add, remove);
    }

    /** A header map with names lowercased (HTTP/2 and HTTP/3 require it, HTTP/1 does not care). */
    static Map<String, String> headerMap(YamlMap m, String key) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Scalar> e : m.scalarMap(key, "a header value").entrySet()) {
            String h = e.getKey().toLowerCase(Locale.ROOT);
            Scalar v = e.getValue();
            if (!HEADER_NAME.matcher(h).matches()) {
                m.ctx().error(v.path(), ConfigError.quote(e.getKey()), HEADER_EXPECTED, v.line());
            } else if (out.containsKey(h)) {
                m.ctx().error(v.path(), ConfigError.quote(e.getKey()), "each header once (names ignore case)",
                        v.line());
            } else {
                out.put(h, v.text());
            }
        }
        return out;
    }
}
