package io.h3relay.policy.cache;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

import java.util.Date;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** RFC 9111 freshness and age arithmetic, Cache-Control parsing and Vary matching, on a fixed clock. */
class CacheFreshnessTest {
    private static final long T0 = 1_800_000_000_000L;

    private static CachedResponse stored(long requestTime, long responseTime, HttpHeaders request, String... headers) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < headers.length; i += 2) {
            h.add(headers[i], headers[i + 1]);
        }
        return new CachedResponse(200, h, new byte[][] {"x".getBytes()}, 1, requestTime, responseTime, 0, request);
    }

    private static String date(long ms) {
        return DateFormatter.format(new Date(ms));
    }

    @Test
    void maxAgeAgainstDateAgeAndTheResponseDelay() {
        // sent at T0, answered 2 s later, the response dated 1 s after T0 and already 10 s old upstream
        CachedResponse r = stored(T0, T0 + 2000, new DefaultHttpHeaders(),
                "Cache-Control", "max-age=60", "Date", date(T0 + 1000), "Age", "10");
        // corrected initial age = max(apparent 1 s, 10 s + 2 s delay) = 12 s; then resident time
        assertThat(r.currentAge(T0 + 2000)).isEqualTo(12_000);
        assertThat(r.currentAge(T0 + 32_000)).isEqualTo(42_000);
        assertThat(r.ttl(T0 + 2000)).isEqualTo(48_000);
        assertThat(r.ttl(T0 + 50_000)).isEqualTo(0);
        assertThat(r.ttl(T0 + 51_000)).isNegative();
    }

    @Test
    void sMaxAgeWinsOverMaxAgeAndMaxAgeOverExpires() {
        HttpHeaders none = new DefaultHttpHeaders();
        assertThat(stored(T0, T0, none, "Cache-Control", "max-age=10, s-maxage=100", "Date", date(T0)).lifetime)
                .isEqualTo(100_000);
        assertThat(stored(T0, T0, none, "Cache-Control", "max-age=10", "Expires", date(T0 + 500_000),
                "Date", date(T0)).lifetime).isEqualTo(10_000);
        assertThat(stored(T0, T0, none, "Expires", date(T0 + 30_000), "Date", date(T0)).lifetime).isEqualTo(30_000);
        assertThat(stored(T0, T0, none, "Expires", "0", "Date", date(T0)).lifetime).isZero(); // invalid: stale
        assertThat(stored(T0, T0, none, "Date", date(T0)).lifetime).isEqualTo(-1); // none stated, no default
    }

    @Test
    void staleWhileRevalidateWindow() {
        CachedResponse r = stored(T0, T0, new DefaultHttpHeaders(),
                "Cache-Control", "max-age=10, stale-while-revalidate=20", "Date", date(T0));
        assertThat(r.staleWhileRevalidate(T0 + 15_000)).isTrue();
        assertThat(r.staleWhileRevalidate(T0 + 31_000)).isFalse();
        CachedResponse strict = stored(T0, T0, new DefaultHttpHeaders(),
                "Cache-Control", "max-age=10, stale-while-revalidate=20, must-revalidate", "Date", date(T0));
        assertThat(strict.staleWhileRevalidate(T0 + 15_000)).isFalse();
    }

    @Test
    void cacheControlParsing() {
        CacheControl cc = CacheControl.parse(List.of("public, max-age=\"30\", no-cache=\"Set-Cookie, X\"",
                "s-maxage=99999999999, stale-while-revalidate=bad, max-stale"));
        assertThat(cc.isPublic()).isTrue();
        assertThat(cc.maxAge()).isEqualTo(30);
        assertThat(cc.noCache()).isTrue();
        assertThat(cc.sMaxAge()).isEqualTo(Integer.MAX_VALUE);
        assertThat(cc.staleWhileRevalidate()).isEqualTo(-1);
        assertThat(cc.maxStale()).isEqualTo(Long.MAX_VALUE);
        assertThat(CacheControl.parse(List.of("max-age=abc")).maxAge()).isZero(); // invalid freshness: stale
        assertThat(CacheControl.parse(List.of("NO-STORE")).noStore()).isTrue();
    }

    @Test
    void varySelectsByTheNamedRequestHeaders() {
        HttpHeaders en = new DefaultHttpHeaders().add("Accept-Language", "en").add("X-Other", "1");
        CachedResponse r = stored(T0, T0, en, "Cache-Control", "max-age=60", "Vary", "accept-language, Accept-Encoding");
        assertThat(r.matches(new DefaultHttpHeaders().add("accept-language", "en"))).isTrue();
        assertThat(r.matches(new DefaultHttpHeaders().add("accept-language", "fr"))).isFalse();
        assertThat(r.matches(new DefaultHttpHeaders().add("accept-language", "en").add("accept-encoding", "gzip")))
                .isFalse();
        assertThat(r.matches(new DefaultHttpHeaders())).isFalse();
    }

    @Test
    void keysAreHostAndOriginFormTarget() {
        assertThat(HttpCache.key("Example.COM:8443", "/a?b=1")).isEqualTo("example.com:8443 /a?b=1");
        assertThat(HttpCache.key("example.com", "http://example.com/a?b")).isEqualTo("example.com /a?b");
        assertThat(HttpCache.key("example.com", "http://example.com")).isEqualTo("example.com /");
    }

    @Test
    void a304RefreshKeepsTheBodyAndTakesTheNewHeaders() {
        CachedResponse r = stored(T0, T0, new DefaultHttpHeaders(),
                "Cache-Control", "max-age=0", "ETag", "\"a\"", "Content-Type", "text/plain", "X-Kept", "1", "Date", date(T0));
        HttpHeaders notModified = new DefaultHttpHeaders().add("Cache-Control", "max-age=120").add("Date", date(T0 + 5000))
                .add("ETag", "\"a\"").add("Content-Type", "text/html").add("x-request-id", "r");
        CachedResponse fresh = r.refreshed(notModified, T0 + 5000, T0 + 5000, 0, new DefaultHttpHeaders());
        assertThat(fresh.lifetime).isEqualTo(120_000);
        assertThat(fresh.ttl(T0 + 5000)).isEqualTo(120_000);
        assertThat(fresh.headers.get("X-Kept")).isEqualTo("1");
        assertThat(fresh.headers.get("Content-Type")).isEqualTo("text/plain");
        assertThat(fresh.headers.contains("x-request-id")).isFalse();
        assertThat(fresh.body).isSameAs(r.body);
    }
}
