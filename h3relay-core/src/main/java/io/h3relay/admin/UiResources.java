package io.h3relay.admin;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The control-center web UI: plain HTML, CSS and JavaScript from the jar ({@code io/h3relay/admin/ui/}),
 * served at {@code /ui} and {@code /ui/FILE}; no build step, nothing from a CDN. Only the listed files are
 * served (no path from the request reaches the class loader).
 */
final class UiResources {
    private static final Map<String, String> FILES = Map.of(
            "index.html", "text/html; charset=utf-8",
            "app.js", "text/javascript; charset=utf-8",
            "style.css", "text/css; charset=utf-8");
    private static final Map<String, byte[]> CACHE = new ConcurrentHashMap<>();

    private UiResources() {
    }

    static boolean serves(String path) {
        return path.equals("/ui") || path.startsWith("/ui/");
    }

    static FullHttpResponse response(String path, HttpMethod method) {
        if (!HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method)) {
            return plain(HttpResponseStatus.METHOD_NOT_ALLOWED, "use GET\n", "text/plain; charset=utf-8");
        }
        String name = path.equals("/ui") || path.equals("/ui/") ? "index.html" : path.substring(4);
        String type = FILES.get(name);
        byte[] body = type == null ? null : CACHE.computeIfAbsent(name, UiResources::read);
        if (body == null || body.length == 0) {
            return plain(HttpResponseStatus.NOT_FOUND, "not found\n", "text/plain; charset=utf-8");
        }
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.wrappedBuffer(body));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, type)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:")
                .set("X-Content-Type-Options", "nosniff");
        return res;
    }

    private static byte[] read(String name) {
        try (InputStream in = UiResources.class.getResourceAsStream("ui/" + name)) {
            return in == null ? new byte[0] : in.readAllBytes();
        } catch (IOException e) {
            return new byte[0];
        }
    }

    private static FullHttpResponse plain(HttpResponseStatus status, String body, String type) {
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, type).setInt(HttpHeaderNames.CONTENT_LENGTH,
                res.content().readableBytes());
        return res;
    }
}
