package io.h3relay.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A route: a match and exactly one action. {@code rewrite}, {@code timeout} and {@code retry} apply to
 * {@link Forward} only; {@code timeout} null means no whole-request timeout; {@code retry} null means one try. {@code policies}
 * are the route's own (see {@link PoliciesConfig#over}).
 */
public record RouteConfig(
        String name,
        Match match,
        Action action,
        Rewrite rewrite,
        Duration timeout,
        Retry retry,
        HeaderOps requestHeaders,
        HeaderOps responseHeaders,
        PoliciesConfig policies) {

    public RouteConfig {
        policies = policies == null ? PoliciesConfig.NONE : policies;
    }

    /** Without policies. */
    public RouteConfig(String name, Match match, Action action, Rewrite rewrite, Duration timeout, Retry retry,
                       HeaderOps requestHeaders, HeaderOps responseHeaders) {
        this(name, match, action, rewrite, timeout, retry, requestHeaders, responseHeaders, PoliciesConfig.NONE);
    }

    /**
     * All present conditions must hold. Empty lists/maps and null paths mean "no condition".
     * At most one of {@code path}, {@code pathPrefix}, {@code pathRegex} is set. {@code websocket}: true,
     * only WebSocket upgrades match (any protocol's); false, never; null, either.
     */
    public record Match(
            List<String> hosts,
            String path,
            String pathPrefix,
            String pathRegex,
            List<String> methods,
            Map<String, String> headers,
            Boolean websocket) {
        public Match {
            hosts = List.copyOf(hosts);
            methods = List.copyOf(methods);
            headers = Map.copyOf(headers);
        }
    }

    public sealed interface Action permits Forward, Respond, Redirect, Builtin {}

    /**
     * {@code builtin: healthz | readyz}: the proxy's own health answers on a traffic listener, for probes
     * and load balancers (healthz: 200 while the process runs; readyz: 200, or 503 once a drain was asked for).
     */
    public record Builtin(String kind) implements Action {}

    public record Forward(String cluster) implements Action {}

    /** Answer directly: status, body (may be empty) and headers. */
    public record Respond(int status, String body, Map<String, String> headers) implements Action {
        public Respond {
            headers = Map.copyOf(headers);
        }
    }

    /**
     * Redirect to the same URL with the given parts replaced; null parts keep the request's.
     * {@code status} is one of 301, 302, 303, 307, 308.
     */
    public record Redirect(String scheme, String host, Integer port, String path, int status) implements Action {}

    /** Path rewrite before forwarding: first strip {@code stripPrefix}, then prepend {@code prefix}. */
    public record Rewrite(String stripPrefix, String prefix) {}

    /**
     * {@code on}: "connect-failure", "refused-stream", "reset" and statuses such as "503".
     * {@code perTryTimeout} null: attempts are bounded only by the route timeout. {@code replayLimit}: the
     * largest request body kept to send again.
     */
    public record Retry(int attempts, List<String> on, Duration perTryTimeout, Duration backoffBase,
                        Duration backoffMax, long replayLimit) {
        public static final long DEFAULT_REPLAY_LIMIT = 64 * 1024;

        public Retry {
            on = List.copyOf(on);
        }
    }

    public record HeaderOps(Map<String, String> add, List<String> remove) {
        public static final HeaderOps NONE = new HeaderOps(Map.of(), List.of());

        public HeaderOps {
            add = Map.copyOf(add);
            remove = List.copyOf(remove);
        }

        public boolean isEmpty() {
            return add.isEmpty() && remove.isEmpty();
        }
    }
}
