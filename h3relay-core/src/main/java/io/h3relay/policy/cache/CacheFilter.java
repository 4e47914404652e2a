package io.h3relay.policy.cache;

import io.h3relay.exchange.ExchangeAttribute;
import io.h3relay.filter.Filter;
import io.h3relay.filter.FilterContext;
import io.h3relay.filter.FilterResult;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;

import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The cache policy's filter (see the package comment). Routed phase: a fresh hit answers at once; a miss
 * (or a stale entry to revalidate) either becomes the key's one fetch or waits for the fetch in flight.
 * Upstream request: validators of the stale entry. Response head: a 304 to our validators becomes the
 * refreshed entry, whole; a storable response starts being stored. Body: each part is copied into the
 * entry as it passes (up to {@code max_object_size}); the last one commits it and answers the waiters.
 */
public final class CacheFilter implements Filter {
    static final AsciiString CACHE_STATUS = AsciiString.cached("cache-status");
    private static final ExchangeAttribute<State> STATE = ExchangeAttribute.of("cache.state");
    private static final ExchangeAttribute<Refresh> REFRESH = ExchangeAttribute.of("cache.refresh");
    /** Heuristically cacheable statuses (RFC 9110 section 15.1), less 206 (ranges are not stored). */
    private static final Set<Integer> STORABLE = Set.of(200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501);
    private static final Set<String> UNSAFE = Set.of("POST", "PUT", "DELETE", "PATCH");

    private final HttpCache cache;
    private final long defaultTtl;

    public CacheFilter(HttpCache cache) {
        this.cache = cache;
        this.defaultTtl = cache.config().defaultTtl().toMillis();
    }

    public HttpCache cache() {
        return cache;
    }

    /** What the cache does for one forwarded exchange. */
    private static final class State {
        final String key;
        final long requestTime;
        /** uri-miss, vary-miss, stale, bypass, request, method. */
        final String fwd;
        final boolean store;
        /** The stale entry being revalidated with our validators, or null. */
        CachedResponse revalidating;
        Fetch fetch;
        Fetch.Waiter waiter;
        boolean invalidate;
        /** Not looked up nor stored (Authorization, or the request's no-store). */
        boolean bypass;
        // storing
        boolean storing;
        int status;
        HttpHeaders headers;
        long responseTime;
        List<byte[]> chunks;
        long size;
        /** A 304 to our validators: the stored body replaces the (empty) one of the 304. */
        CachedResponse serveBody;

        State(String key, long requestTime, String fwd, boolean store) {
            this.key = key;
            this.requestTime = requestTime;
            this.fwd = fwd;
            this.store = store;
        }
    }

    @Override
    public FilterResult onRouted(FilterContext ctx, HttpRequest head) {
        Refresh refresh = ctx.attribute(REFRESH);
        if (refresh != null) {
            // our own background revalidation: straight upstream, with the stale entry's validators
            ctx.attribute(REFRESH, null);
            State st = new State(refresh.fetch.key, System.currentTimeMillis(), "stale", true);
            st.revalidating = refresh.entry.hasValidators() ? refresh.entry : null;
            st.fetch = refresh.fetch;
            ctx.attribute(STATE, st);
            return FilterResult.CONTINUE;
        }
        String method = ctx.method();
        boolean get = "GET".equals(method);
        boolean isHead = "HEAD".equals(method);
        String key = HttpCache.key(ctx.authority(), ctx.target());
        if (!get && !isHead) {
            State st = new State(key, 0, "method", false);
            st.invalidate = UNSAFE.contains(method);
            ctx.attribute(STATE, st);
            return FilterResult.CONTINUE;
        }
        HttpHeaders rh = head.headers();
        CacheControl rcc = CacheControl.parse(rh.getAll(HttpHeaderNames.CACHE_CONTROL));
        if (rh.contains(HttpHeaderNames.AUTHORIZATION) || rcc.noStore()) {
            // Authorized responses are not shared; no-store forbids storing what this request gets.
            cache.bypassed.increment();
            State st = new State(key, 0, rcc.noStore() ? "request" : "bypass", false);
            st.bypass = true;
            ctx.attribute(STATE, st);
            return FilterResult.CONTINUE;
        }
        boolean reqNoCache = rcc.noCache() || rcc.maxAge() == 0
                || (!rh.contains(HttpHeaderNames.CACHE_CONTROL) && rh.containsValue(HttpHeaderNames.PRAGMA, "no-cache", true));
        long now = System.currentTimeMillis();
        CachedResponse e = cache.lookup(key, rh);
        if (e != null && !reqNoCache) {
            long ttl = e.ttl(now);
            boolean fresh = ttl > 0 && !e.cc.noCache()
                    && (rcc.maxAge() < 0 || e.currentAge(now) <= rcc.maxAge() * 1000)
                    && (rcc.minFresh() < 0 || ttl >= rcc.minFresh() * 1000);
            boolean staleOk = !fresh && !e.cc.mustRevalidate() && !e.cc.noCache() && rcc.maxStale() >= 0
                    && -ttl <= rcc.maxStale() * 1000;
            if (fresh || staleOk) {
                cache.hits.increment();
                return FilterResult.respond(hitResponse(e, rh, isHead, now, "hit; ttl=" + ttl / 1000));
            }
            if (e.staleWhileRevalidate(now)) {
                cache.hits.increment();
                cache.staleHits.increment();
                refreshInBackground(ctx, head, key, e);
                return FilterResult.respond(hitResponse(e, rh, isHead, now,
                        "hit; ttl=" + ttl / 1000 + "; detail=stale-while-revalidate"));
            }
        }
        if (rcc.onlyIfCached()) {
            return FilterResult.respond(gatewayTimeout());
        }
        cache.misses.increment();
        String fwd = e != null ? "stale" : reqNoCache ? "request" : cache.hasKey(key) ? "vary-miss" : "uri-miss";
        State st = new State(key, now, fwd, get);
        if (e != null && e.hasValidators() && !conditional(rh)) {
            st.revalidating = e;
        }
        ctx.attribute(STATE, st);
        if (!get) {
            return FilterResult.CONTINUE;
        }
        Fetch mine = cache.startFetch(key);
        if (mine != null) {
            st.fetch = mine;
            return FilterResult.CONTINUE;
        }
        Fetch other = cache.inflight(key);
        if (other == null) {
            return FilterResult.CONTINUE; // it just ended: go upstream (this response is stored too)
        }
        Fetch.Waiter w = new Fetch.Waiter(ctx, rh, false);
        st.waiter = w;
        if (!other.add(w)) {
            st.waiter = null;
            CachedResponse now2 = cache.lookup(key, rh);
            if (now2 != null && now2.ttl(System.currentTimeMillis()) > 0) {
                ctx.attribute(STATE, null);
                cache.hits.increment();
                return FilterResult.respond(hitResponse(now2, rh, false, System.currentTimeMillis(), "hit; collapsed"));
            }
            return FilterResult.CONTINUE;
        }
        w.timeout = ctx.downstreamChannel().eventLoop().schedule(() -> w.resume(FilterResult.CONTINUE),
                cache.config().lockTimeout().toMillis(), TimeUnit.MILLISECONDS);
        return FilterResult.PAUSE;
    }

    /** The background exchange that refreshes a stale entry served under stale-while-revalidate. */
    private record Refresh(Fetch fetch, CachedResponse entry) {
    }

    /**
     * Starts the key's one fetch as a background exchange (a GET with the client's headers less its own
     * validators); none when a fetch of the key is already in flight.
     */
    private void refreshInBackground(FilterContext ctx, HttpRequest head, String key, CachedResponse stale) {
        Fetch f = cache.startFetch(key);
        if (f == null) {
            return;
        }
        HttpHeaders h = head.headers().copy();
        for (AsciiString n : List.of(HttpHeaderNames.IF_NONE_MATCH, HttpHeaderNames.IF_MODIFIED_SINCE,
                HttpHeaderNames.IF_MATCH, HttpHeaderNames.IF_UNMODIFIED_SINCE, HttpHeaderNames.IF_RANGE,
                HttpHeaderNames.RANGE, HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.TRANSFER_ENCODING)) {
            h.remove(n);
        }
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, head.uri(),
                Unpooled.EMPTY_BUFFER, h, EmptyHttpHeaders.INSTANCE);
        ctx.spawn(req).attribute(REFRESH, new Refresh(f, stale));
    }

    @Override
    public void onUpstreamRequest(FilterContext ctx, HttpRequest upstreamHead) {
        State st = ctx.attribute(STATE);
        if (st == null || st.revalidating == null) {
            return;
        }
        CachedResponse e = st.revalidating;
        if (e.etag != null) {
            upstreamHead.headers().set(HttpHeaderNames.IF_NONE_MATCH, e.etag);
        }
        if (e.lastModified != null) {
            upstreamHead.headers().set(HttpHeaderNames.IF_MODIFIED_SINCE, e.lastModified);
        }
    }

    @Override
    public void onResponseHead(FilterContext ctx, HttpResponse head) {
        State st = ctx.attribute(STATE);
        if (st == null || (st.waiter != null && st.waiter.answered)) {
            return; // a hit (ours, whole), or not through the cache
        }
        int status = head.status().code();
        HttpHeaders h = head.headers();
        if (st.invalidate) {
            if (status < 400) {
                cache.remove(st.key); // RFC 9111 section 4.4: an unsafe method's success invalidates
            }
            return;
        }
        if (st.bypass) {
            h.set(CACHE_STATUS, "h3relay; fwd=" + st.fwd);
            return;
        }
        long now = System.currentTimeMillis();
        if (st.revalidating != null && status == 304) {
            CachedResponse r = st.revalidating.refreshed(h, st.requestTime, now, defaultTtl, ctx.requestHeaders());
            cache.put(st.key, r);
            cache.revalidated.increment();
            String requestId = h.get("x-request-id");
            head.setStatus(HttpResponseStatus.valueOf(r.status));
            h.clear();
            h.set(r.headers);
            if (requestId != null) {
                h.set("x-request-id", requestId);
            }
            h.set(HttpHeaderNames.CONTENT_LENGTH, r.bodyLength);
            h.set(HttpHeaderNames.AGE, r.currentAge(now) / 1000);
            h.set(CACHE_STATUS, "h3relay; fwd=stale; fwd-status=304; stored");
            st.serveBody = r;
            endFetch(st, true);
            return;
        }
        String cs = "h3relay; fwd=" + st.fwd + (st.revalidating != null ? "; fwd-status=" + status : "");
        if (st.store && !(head instanceof FullHttpResponse) && storable(head, now)) {
            st.storing = true;
            st.status = status;
            st.headers = h.copy();
            st.responseTime = now;
            st.chunks = new ArrayList<>();
            cs += "; stored";
        } else {
            endFetch(st, false);
        }
        h.set(CACHE_STATUS, cs);
    }

    @Override
    public HttpContent onResponseBody(FilterContext ctx, HttpContent part) {
        State st = ctx.attribute(STATE);
        if (st == null) {
            return part;
        }
        if (st.serveBody != null) {
            if (part instanceof LastHttpContent last) {
                LastHttpContent whole = new DefaultLastHttpContent(st.serveBody.bodyBuffer(), last.trailingHeaders());
                part.release();
                st.serveBody = null;
                return whole;
            }
            return part;
        }
        if (!st.storing) {
            return part;
        }
        int n = part.content().readableBytes();
        if (st.size + n > cache.config().maxObjectSize()) {
            st.storing = false;
            st.chunks = null;
            endFetch(st, false);
            return part;
        }
        if (n > 0) {
            byte[] b = new byte[n];
            part.content().getBytes(part.content().readerIndex(), b);
            st.chunks.add(b);
            st.size += n;
        }
        if (part instanceof LastHttpContent) {
            CachedResponse r = new CachedResponse(st.status, st.headers, st.chunks.toArray(byte[][]::new), st.size,
                    st.requestTime, st.responseTime, defaultTtl, ctx.requestHeaders());
            st.storing = false;
            st.chunks = null;
            cache.put(st.key, r);
            endFetch(st, true);
        }
        return part;
    }

    @Override
    public void onEnd(FilterContext ctx) {
        State st = ctx.attribute(STATE);
        if (st != null) {
            st.storing = false;
            st.chunks = null;
            endFetch(st, false); // cut short: the waiters go upstream themselves
        }
    }

    private void endFetch(State st, boolean stored) {
        Fetch f = st.fetch;
        if (f == null) {
            return;
        }
        st.fetch = null;
        cache.fetchEnded(f);
        f.end(stored ? this::answerWaiter : null);
    }

    private FullHttpResponse answerWaiter(Fetch.Waiter w) {
        long now = System.currentTimeMillis();
        CachedResponse r = cache.lookup(HttpCache.key(w.ctx.authority(), w.ctx.target()), w.requestHeaders);
        if (r == null) {
            return null; // another variant was fetched: this one goes upstream
        }
        cache.hits.increment();
        cache.collapsed.increment();
        return hitResponse(r, w.requestHeaders, w.head, now, "hit; collapsed");
    }

    /** Whether {@code head} (an endpoint's response to a GET) may be stored (RFC 9111 section 3). */
    private boolean storable(HttpResponse head, long now) {
        if (!STORABLE.contains(head.status().code())) {
            return false;
        }
        HttpHeaders h = head.headers();
        CacheControl cc = CacheControl.parse(h.getAll(HttpHeaderNames.CACHE_CONTROL));
        if (cc.noStore() || cc.isPrivate() || h.contains(HttpHeaderNames.SET_COOKIE)
                || h.contains(HttpHeaderNames.CONTENT_RANGE) || CachedResponse.varyNames(h).contains("*")) {
            return false;
        }
        String cl = h.get(HttpHeaderNames.CONTENT_LENGTH);
        if (cl != null) {
            try {
                if (Long.parseLong(cl.trim()) > cache.config().maxObjectSize()) {
                    return false;
                }
            } catch (NumberFormatException e) {
                return false;
            }
        }
        boolean validators = h.contains(HttpHeaderNames.ETAG) || h.contains(HttpHeaderNames.LAST_MODIFIED);
        if (cc.noCache()) {
            return validators; // stored only to be revalidated on every use
        }
        Date date = CachedResponse.httpDate(h.get(HttpHeaderNames.DATE));
        long lifetime = CachedResponse.lifetime(cc, h, date == null ? now : date.getTime(), defaultTtl);
        return lifetime > 0 || (lifetime == 0 && validators);
    }

    /** True when the client's request is conditional itself (then its 304 is its own business). */
    private static boolean conditional(HttpHeaders rh) {
        return rh.contains(HttpHeaderNames.IF_NONE_MATCH) || rh.contains(HttpHeaderNames.IF_MODIFIED_SINCE)
                || rh.contains(HttpHeaderNames.IF_MATCH) || rh.contains(HttpHeaderNames.IF_UNMODIFIED_SINCE)
                || rh.contains(HttpHeaderNames.IF_RANGE) || rh.contains(HttpHeaderNames.RANGE);
    }

    /** A response from the store: whole, or 304 when the client's own validators match it. */
    static FullHttpResponse hitResponse(CachedResponse e, HttpHeaders request, boolean head, long now, String status) {
        String age = Long.toString(Math.max(0, e.currentAge(now) / 1000));
        String cacheStatus = "h3relay; " + status;
        if (notModified(e, request)) {
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED,
                    Unpooled.EMPTY_BUFFER);
            for (AsciiString name : List.of(HttpHeaderNames.ETAG, HttpHeaderNames.CACHE_CONTROL, HttpHeaderNames.EXPIRES,
                    HttpHeaderNames.DATE, HttpHeaderNames.VARY, HttpHeaderNames.LAST_MODIFIED,
                    HttpHeaderNames.CONTENT_LOCATION)) {
                List<String> v = e.headers.getAll(name);
                if (!v.isEmpty()) {
                    res.headers().set(name, v);
                }
            }
            res.headers().set(HttpHeaderNames.AGE, age);
            res.headers().set(CACHE_STATUS, cacheStatus);
            return res;
        }
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(e.status),
                head ? Unpooled.EMPTY_BUFFER : e.bodyBuffer());
        res.headers().set(e.headers);
        res.headers().set(HttpHeaderNames.CONTENT_LENGTH, e.bodyLength);
        res.headers().set(HttpHeaderNames.AGE, age);
        res.headers().set(CACHE_STATUS, cacheStatus);
        return res;
    }

    /** The client's If-None-Match (weak comparison) or, without it, If-Modified-Since matches the entry. */
    private static boolean notModified(CachedResponse e, HttpHeaders request) {
        List<String> inm = request.getAll(HttpHeaderNames.IF_NONE_MATCH);
        if (!inm.isEmpty()) {
            if (e.etag == null) {
                return false;
            }
            String mine = weak(e.etag);
            for (String v : inm) {
                for (String tag : v.split(",")) {
                    String t = tag.trim();
                    if (t.equals("*") || weak(t).equals(mine)) {
                        return true;
                    }
                }
            }
            return false;
        }
        String ims = request.get(HttpHeaderNames.IF_MODIFIED_SINCE);
        if (ims != null && e.lastModified != null) {
            Date since = CachedResponse.httpDate(ims);
            Date modified = CachedResponse.httpDate(e.lastModified);
            return since != null && modified != null && !modified.after(since);
        }
        return false;
    }

    private static String weak(String tag) {
        return tag.startsWith("W/") ? tag.substring(2) : tag;
    }

    private static FullHttpResponse gatewayTimeout() {
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.GATEWAY_TIMEOUT,
                Unpooled.EMPTY_BUFFER);
        res.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
        res.headers().set(CACHE_STATUS, "h3relay; fwd=miss; detail=only-if-cached");
        return res;
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
