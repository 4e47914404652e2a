package io.h3relay.policy.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;

import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One stored response (one variant of a key): status, headers as they go to clients (without the per-request
 * ones), the body as the byte arrays it arrived in, and what RFC 9111 needs to compute its age and freshness.
 * Immutable: a revalidation makes a new one. Bodies are plain heap arrays, so a hit shares them with the
 * store without reference counting (an eviction never pulls a buffer from under a response being written).
 */
final class CachedResponse {
    /** Headers that belong to one response, never to a stored one. */
    private static final List<String> PER_RESPONSE = List.of("x-request-id", "cache-status", "age",
            "content-length", "transfer-encoding", "connection", "keep-alive");

    final int status;
    final HttpHeaders headers;
    final byte[][] body;
    final long bodyLength;
    /** When the request that fetched it was sent and its response head arrived (ms since the epoch). */
    final long requestTime;
    final long responseTime;
    final long dateValue;
    final long ageValue;
    /** Freshness lifetime in ms (0: stale at once, revalidate before use). */
    final long lifetime;
    final CacheControl cc;
    /** The request header names of Vary, lowercase, and the request's values of each (normalized). */
    final List<String> varyNames;
    final List<String> varyValues;
    final String etag;
    final String lastModified;

    CachedResponse(int status, HttpHeaders responseHeaders, byte[][] body, long bodyLength, long requestTime,
                   long responseTime, long defaultTtlMillis, HttpHeaders requestHeaders) {
        this.status = status;
        this.headers = storedHeaders(responseHeaders);
        this.body = body;
        this.bodyLength = bodyLength;
        this.requestTime = requestTime;
        this.responseTime = responseTime;
        this.cc = CacheControl.parse(headers.getAll(HttpHeaderNames.CACHE_CONTROL));
        Date date = CachedResponse.httpDate(headers.get(HttpHeaderNames.DATE));
        this.dateValue = date == null ? responseTime : date.getTime();
        this.ageValue = ageOf(responseHeaders.get(HttpHeaderNames.AGE));
        this.lifetime = lifetime(cc, headers, dateValue, defaultTtlMillis);
        this.varyNames = varyNames(headers);
        this.varyValues = new ArrayList<>(varyNames.size());
        for (String name : varyNames) {
            varyValues.add(normalized(requestHeaders.getAll(name)));
        }
        this.etag = headers.get(HttpHeaderNames.ETAG);
        this.lastModified = headers.get(HttpHeaderNames.LAST_MODIFIED);
    }

    /** An HTTP date, or null when absent or malformed. */
    static Date httpDate(String text) {
        return text == null ? null : DateFormatter.parseHttpDate(text);
    }

    /** Freshness lifetime from s-maxage, max-age, Expires - Date, else the configured default; -1 for none. */
    static long lifetime(CacheControl cc, HttpHeaders h, long dateValue, long defaultTtlMillis) {
        if (cc.sMaxAge() >= 0) {
            return cc.sMaxAge() * 1000;
        }
        if (cc.maxAge() >= 0) {
            return cc.maxAge() * 1000;
        }
        String expires = h.get(HttpHeaderNames.EXPIRES);
        if (expires != null) {
            Date e = CachedResponse.httpDate(expires);
            return e == null ? 0 : Math.max(0, e.getTime() - dateValue); // an invalid Expires means stale
        }
        return defaultTtlMillis > 0 ? defaultTtlMillis : -1;
    }

    static List<String> varyNames(HttpHeaders h) {
        List<String> names = new ArrayList<>(2);
        for (String v : h.getAll(HttpHeaderNames.VARY)) {
            for (String n : v.split(",")) {
                String t = n.trim().toLowerCase(Locale.ROOT);
                if (!t.isEmpty() && !names.contains(t)) {
                    names.add(t);
                }
            }
        }
        return names;
    }

    private static String normalized(List<String> values) {
        if (values.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (String v : values) {
            for (String part : v.split(",")) {
                if (!sb.isEmpty()) {
                    sb.append(',');
                }
                sb.append(part.trim());
            }
        }
        return sb.toString();
    }

    private static long ageOf(String age) {
        if (age == null) {
            return 0;
        }
        try {
            return Math.max(0, Long.parseLong(age.trim()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static HttpHeaders storedHeaders(HttpHeaders from) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (Map.Entry<String, String> e : from) {
            if (!PER_RESPONSE.contains(e.getKey().toLowerCase(Locale.ROOT))) {
                h.add(e.getKey(), e.getValue());
            }
        }
        return h;
    }

    /** True when {@code request}'s headers select this variant (RFC 9111 section 4.1). */
    boolean matches(HttpHeaders request) {
        for (int i = 0; i < varyNames.size(); i++) {
            String have = normalized(request.getAll(varyNames.get(i)));
            String want = varyValues.get(i);
            if (want == null ? have != null : !want.equals(have)) {
                return false;
            }
        }
        return true;
    }

    /** Same Vary values as {@code other}: the newer one replaces it. */
    boolean sameVariant(CachedResponse other) {
        return varyNames.equals(other.varyNames) && varyValues.equals(other.varyValues);
    }

    /** Current age in ms (RFC 9111 section 4.2.3). */
    long currentAge(long now) {
        long apparentAge = Math.max(0, responseTime - dateValue);
        long responseDelay = Math.max(0, responseTime - requestTime);
        long correctedAgeValue = ageValue * 1000 + responseDelay;
        long correctedInitialAge = Math.max(apparentAge, correctedAgeValue);
        return correctedInitialAge + Math.max(0, now - responseTime);
    }

    /** Remaining freshness in ms: positive while fresh, zero or negative once stale. */
    long ttl(long now) {
        return lifetime - currentAge(now);
    }

    boolean hasValidators() {
        return etag != null || lastModified != null;
    }

    /** Whether a stale entry may be served while a background fetch refreshes it. */
    boolean staleWhileRevalidate(long now) {
        if (cc.mustRevalidate() || cc.noCache() || cc.staleWhileRevalidate() < 0) {
            return false;
        }
        return ttl(now) + cc.staleWhileRevalidate() * 1000 > 0;
    }

    /** The store's cost of this entry in bytes (body, headers, fixed overhead). */
    int weight() {
        long w = bodyLength + 256;
        for (Map.Entry<String, String> e : headers) {
            w += e.getKey().length() + e.getValue().length() + 32;
        }
        return (int) Math.min(Integer.MAX_VALUE, w);
    }

    /** The body as a buffer sharing the stored arrays. */
    ByteBuf bodyBuffer() {
        return body.length == 0 ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body);
    }

    /**
     * This entry refreshed by a 304 to a revalidation (RFC 9111 section 4.3.4): the 304's headers replace the
     * stored ones of the same name (not the body's own: Content-Length, Content-Encoding stay).
     */
    CachedResponse refreshed(HttpHeaders notModified, long requestTime, long responseTime, long defaultTtlMillis,
                             HttpHeaders requestHeaders) {
        HttpHeaders merged = headers.copy();
        for (String name : notModified.names()) {
            String n = name.toLowerCase(Locale.ROOT);
            if (PER_RESPONSE.contains(n) || n.equals("content-encoding") || n.equals("content-type")) {
                continue;
            }
            merged.set(name, notModified.getAll(name));
        }
        if (notModified.contains(HttpHeaderNames.AGE)) {
            merged.set(HttpHeaderNames.AGE, notModified.get(HttpHeaderNames.AGE));
        }
        return new CachedResponse(status, merged, body, bodyLength, requestTime, responseTime, defaultTtlMillis,
                requestHeaders);
    }
}
