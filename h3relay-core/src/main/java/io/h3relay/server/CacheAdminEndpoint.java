package io.h3relay.server;

import io.h3relay.admin.AdminEndpoint;
import io.h3relay.policy.cache.CacheRegistry;
import io.h3relay.policy.cache.HttpCache;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Admin {@code /cache} and {@code /cache/purge}: {@code GET /cache} reports each store (entries, bytes,
 * counters); {@code DELETE /cache} or {@code POST /cache/purge} removes entries: {@code ?path=/a} (exact path,
 * any query, with {@code host=} on that host only), {@code ?prefix=/a/} (targets starting so), or everything
 * without either. Answers {@code {"purged": N}}.
 */
final class CacheAdminEndpoint implements AdminEndpoint {
    private final Supplier<CacheRegistry> caches;
    private final boolean purgeOnly;

    CacheAdminEndpoint(Supplier<CacheRegistry> caches, boolean purgeOnly) {
        this.caches = caches;
        this.purgeOnly = purgeOnly;
    }

    @Override
    public Response serve(HttpHeaders requestHeaders) {
        return json(405, "{\"error\":\"method not allowed\"}");
    }

    @Override
    public boolean acts() {
        return true;
    }

    @Override
    public Response serve(HttpMethod method, String uri, HttpHeaders requestHeaders) {
        QueryStringDecoder q = new QueryStringDecoder(uri);
        boolean purge = purgeOnly ? HttpMethod.POST.equals(method) : HttpMethod.DELETE.equals(method);
        if (purge) {
            String host = one(q.parameters(), "host");
            String path = one(q.parameters(), "path");
            String prefix = one(q.parameters(), "prefix");
            if (path != null && prefix != null) {
                return json(400, "{\"error\":\"give path or prefix, not both\"}");
            }
            int n = caches.get().purge(host, path, prefix);
            return json(200, "{\"purged\":" + n + "}");
        }
        if (!purgeOnly && HttpMethod.GET.equals(method)) {
            StringBuilder sb = new StringBuilder("{\"caches\":[");
            List<HttpCache> all = caches.get().caches();
            for (int i = 0; i < all.size(); i++) {
                HttpCache c = all.get(i);
                if (i > 0) {
                    sb.append(',');
                }
                sb.append("{\"listener\":\"").append(c.listener()).append("\",\"route\":\"").append(c.route())
                        .append("\",\"entries\":").append(c.entries()).append(",\"bytes\":").append(c.bytes());
                for (Map.Entry<String, Long> e : c.counters().entrySet()) {
                    sb.append(",\"").append(e.getKey()).append("\":").append(e.getValue());
                }
                sb.append('}');
            }
            return json(200, sb.append("]}\n").toString());
        }
        return json(405, "{\"error\":\"use " + (purgeOnly ? "POST /cache/purge" : "GET or DELETE /cache") + "\"}");
    }

    /** The stores' counters as metric series. */
    static List<io.h3relay.telemetry.Telemetry.CacheSeries> series(CacheRegistry registry) {
        List<io.h3relay.telemetry.Telemetry.CacheSeries> out = new java.util.ArrayList<>();
        for (HttpCache c : registry.caches()) {
            for (Map.Entry<String, Long> e : c.counters().entrySet()) {
                out.add(new io.h3relay.telemetry.Telemetry.CacheSeries(c.listener(), c.route(), e.getKey(), e.getValue()));
            }
        }
        return out;
    }

    private static String one(Map<String, List<String>> params, String name) {
        List<String> v = params.get(name);
        return v == null || v.isEmpty() || v.get(0).isEmpty() ? null : v.get(0);
    }

    private static Response json(int status, String body) {
        return new Response(status, "application/json", body.getBytes(StandardCharsets.UTF_8));
    }
}
