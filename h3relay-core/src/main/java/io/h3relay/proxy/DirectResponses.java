package io.h3relay.proxy;

import io.h3relay.exchange.LocalResponses;
import io.h3relay.config.RouteConfig;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;

import java.util.Map;

/** Responses of routes that answer by themselves: {@code respond} and {@code redirect}. */
final class DirectResponses {
    private DirectResponses() {
    }

    static FullHttpResponse respond(ByteBufAllocator alloc, RouteConfig.Respond r) {
        FullHttpResponse res = LocalResponses.of(alloc, r.status(), r.body() == null ? "" : r.body());
        for (Map.Entry<String, String> h : r.headers().entrySet()) {
            res.headers().set(h.getKey(), h.getValue());
        }
        if (!res.headers().contains(HttpHeaderNames.CONTENT_TYPE) && res.content().isReadable()) {
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        }
        return res;
    }

    /** {@code builtin: healthz} (200 while running) or {@code readyz} (200 when ready, else 503). */
    static FullHttpResponse builtin(ByteBufAllocator alloc, RouteConfig.Builtin b, boolean ready) {
        boolean ok = b.kind().equals("healthz") || ready;
        FullHttpResponse res = LocalResponses.of(alloc, ok ? 200 : 503,
                b.kind().equals("healthz") ? "ok\n" : ok ? "ready\n" : "not ready\n");
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        res.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        return res;
    }

    /** Same URL with the configured parts replaced: scheme, host, port, path. The query is kept. */
    static FullHttpResponse redirect(ByteBufAllocator alloc, RouteConfig.Redirect r, HttpRequest req, boolean tls) {
        String scheme = r.scheme() != null ? r.scheme() : (tls ? "https" : "http");
        String hostHeader = req.headers().get(HttpHeaderNames.HOST, "localhost");
        String host = hostHeader;
        String port = null;
        int colon = hostHeader.lastIndexOf(':');
        if (colon > 0 && hostHeader.indexOf(']') < colon) {
            host = hostHeader.substring(0, colon);
            port = hostHeader.substring(colon + 1);
        }
        if (r.host() != null) {
            host = r.host();
        }
        if (r.port() != null) {
            port = String.valueOf(r.port());
        } else if (r.scheme() != null) {
            port = null; // a scheme change drops the old port, like nginx's "return 301 https://$host$uri"
        }
        boolean defaultPort = port == null || ("https".equals(scheme) && "443".equals(port))
                || ("http".equals(scheme) && "80".equals(port));
        String uri = req.uri();
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        String query = q < 0 ? "" : uri.substring(q);
        if (r.path() != null) {
            path = r.path();
        }
        String location = scheme + "://" + host + (defaultPort ? "" : ":" + port) + path + query;
        FullHttpResponse res = LocalResponses.of(alloc, r.status(), "");
        res.headers().set(HttpHeaderNames.LOCATION, location);
        return res;
    }
}
