package io.h3relay.policy.cors;

import io.h3relay.config.CorsConfig;
import io.h3relay.exchange.ErrorCode;
import io.h3relay.exchange.ProxyError;
import io.h3relay.filter.Filter;
import io.h3relay.filter.FilterContext;
import io.h3relay.filter.FilterResult;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code policies.cors} (the Fetch standard's CORS protocol). A preflight ({@code OPTIONS} with
 * {@code Origin} and {@code Access-Control-Request-Method}) is answered here, 204 with the
 * {@code Access-Control-Allow-*} headers when the origin, method and headers are allowed, else 403 (the
 * browser then refuses the actual request); it never reaches the endpoint. Any other request goes on, and
 * its response (the endpoint's or a local one) gets {@code Access-Control-Allow-Origin} and the rest when
 * its origin is allowed. {@code Vary: Origin} is added whenever the answer depends on the origin.
 */
public final class CorsFilter implements Filter {
    private static final ProxyError ORIGIN_REFUSED = new ProxyError(ErrorCode.FORBIDDEN,
            "CORS preflight refused: origin not allowed");
    private static final ProxyError METHOD_REFUSED = new ProxyError(ErrorCode.FORBIDDEN,
            "CORS preflight refused: method not allowed");
    private static final ProxyError HEADERS_REFUSED = new ProxyError(ErrorCode.FORBIDDEN,
            "CORS preflight refused: request header not allowed");
    private static final String PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

    private final boolean anyOrigin;
    private final Set<String> exact;
    /** Wildcard origins as {scheme + "://", "." + domain[:port]}. */
    private final String[][] wildcards;
    private final Set<String> methods;
    private final String methodsValue;
    private final boolean anyHeader;
    private final Set<String> headers;
    private final String headersValue;
    private final String exposeValue;
    private final boolean credentials;
    private final String maxAge;
    /** "*" goes out as is (no credentials, any origin): the answer then does not vary by origin. */
    private final boolean star;

    public CorsFilter(CorsConfig c) {
        List<String> ex = new ArrayList<>();
        List<String[]> wild = new ArrayList<>();
        boolean any = false;
        for (String o : c.allowOrigins()) {
            if (o.equals("*")) {
                any = true;
            } else if (o.contains("://*.")) {
                int i = o.indexOf("://*.");
                wild.add(new String[] {o.substring(0, i + 3), o.substring(i + 4)});
            } else {
                ex.add(o);
            }
        }
        this.anyOrigin = any;
        this.exact = Set.copyOf(ex);
        this.wildcards = wild.toArray(String[][]::new);
        this.methods = Set.copyOf(c.allowMethods());
        this.methodsValue = String.join(", ", c.allowMethods());
        this.anyHeader = c.allowHeaders().contains("*");
        this.headers = Set.copyOf(c.allowHeaders());
        this.headersValue = String.join(", ", c.allowHeaders());
        this.exposeValue = c.exposeHeaders().isEmpty() ? null : String.join(", ", c.exposeHeaders());
        this.credentials = c.allowCredentials();
        this.maxAge = c.maxAge() == null ? null : String.valueOf(c.maxAge().toSeconds());
        this.star = anyOrigin && !credentials;
    }

    /** True when {@code origin} (as the browser sent it) is allowed. */
    public boolean allows(String origin) {
        if (anyOrigin) {
            return true;
        }
        String o = origin.toLowerCase(Locale.ROOT);
        if (exact.contains(o)) {
            return true;
        }
        for (String[] w : wildcards) {
            if (o.startsWith(w[0]) && o.endsWith(w[1]) && o.length() > w[0].length() + w[1].length()) {
                String sub = o.substring(w[0].length(), o.length() - w[1].length());
                if (sub.indexOf('/') < 0 && sub.indexOf(':') < 0) {
                    return true;
                }
            }
        }
        return false;
    }

    @Override
    public FilterResult onRouted(FilterContext ctx, HttpRequest head) {
        HttpHeaders h = head.headers();
        if (head.method() != HttpMethod.OPTIONS || !h.contains(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD)) {
            return FilterResult.CONTINUE;
        }
        String origin = h.get(HttpHeaderNames.ORIGIN);
        if (origin == null) {
            return FilterResult.CONTINUE; // not a CORS preflight: an OPTIONS request for the endpoint
        }
        if (!allows(origin)) {
            return FilterResult.reject(ORIGIN_REFUSED);
        }
        String method = h.get(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD).trim();
        if (!methods.contains(method)) {
            return FilterResult.reject(METHOD_REFUSED);
        }
        String requested = h.get(HttpHeaderNames.ACCESS_CONTROL_REQUEST_HEADERS);
        if (requested != null && !anyHeader) {
            for (String name : requested.split(",")) {
                String n = name.trim().toLowerCase(Locale.ROOT);
                if (!n.isEmpty() && !headers.contains(n)) {
                    return FilterResult.reject(HEADERS_REFUSED);
                }
            }
        }
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT,
                Unpooled.EMPTY_BUFFER);
        HttpHeaders out = res.headers();
        out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, star ? "*" : origin);
        out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, methodsValue);
        if (anyHeader && requested != null) {
            out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, requested);
        } else if (!headersValue.isEmpty()) {
            out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, headersValue);
        }
        if (credentials) {
            out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
        }
        if (maxAge != null) {
            out.set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, maxAge);
        }
        out.set(HttpHeaderNames.VARY, PREFLIGHT_VARY);
        return FilterResult.respond(res);
    }

    @Override
    public void onResponseHead(FilterContext ctx, HttpResponse head) {
        HttpHeaders out = head.headers();
        if (out.contains(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS)) {
            return; // our own preflight answer
        }
        if (!star) {
            addVaryOrigin(out);
        }
        String origin = ctx.requestHeaders().get(HttpHeaderNames.ORIGIN);
        if (origin == null || !allows(origin)) {
            out.remove(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN); // the route's policy decides, not the endpoint
            out.remove(HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS);
            return;
        }
        out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, star ? "*" : origin);
        if (credentials) {
            out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
        }
        if (exposeValue != null) {
            out.set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, exposeValue);
        }
    }

    private static void addVaryOrigin(HttpHeaders out) {
        String vary = out.get(HttpHeaderNames.VARY);
        if (vary == null) {
            out.set(HttpHeaderNames.VARY, "Origin");
        } else if (!vary.equals("*") && !containsToken(vary, "origin")) {
            out.set(HttpHeaderNames.VARY, vary + ", Origin");
        }
    }

    private static boolean containsToken(String list, String token) {
        for (String t : list.split(",")) {
            if (t.trim().equalsIgnoreCase(token)) {
                return true;
            }
        }
        return false;
    }
}
