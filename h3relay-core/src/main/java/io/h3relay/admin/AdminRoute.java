package io.h3relay.admin;

import io.netty.handler.codec.http.HttpHeaders;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * One route of the admin API ({@code GET /config}, {@code POST /clusters/{c}/endpoints/{e}/drain}, ...),
 * registered with {@link AdminServer#route}. Like an {@link AdminEndpoint} it runs on the admin worker
 * thread, off the event loops; the server has checked the method and, for a change, the token.
 */
@FunctionalInterface
public interface AdminRoute {
    AdminEndpoint.Response handle(Request request) throws Exception;

    /** The call: method, path, the pattern's {@code {name}} parts, query parameters, headers, body. */
    record Request(String method, String path, Map<String, String> params, Map<String, List<String>> query,
                   HttpHeaders headers, byte[] body) {
        public String param(String name) {
            return params.get(name);
        }

        /** The first value of a query parameter, or null. */
        public String query(String name) {
            List<String> v = query.get(name);
            return v == null || v.isEmpty() ? null : v.get(0);
        }

        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** A JSON response. */
    static AdminEndpoint.Response json(int status, String body) {
        return new AdminEndpoint.Response(status, "application/json", body.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The error envelope of the proxy's own responses, {@code {"error":{"status":..,"code":..,"message":..}}},
     * with {@code extra} (already JSON members, or empty) after it.
     */
    static AdminEndpoint.Response error(int status, String code, String message, String extra) {
        return json(status, "{\"error\":{\"status\":" + status + ",\"code\":" + HealthReport.quote(code)
                + ",\"message\":" + HealthReport.quote(message) + "}" + (extra.isEmpty() ? "" : "," + extra) + "}\n");
    }
}
