package io.h3relay.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code policies.cache} over h1, h2 and h3: hits served without reaching the endpoint (counted there),
 * revalidation with If-None-Match, 100 concurrent misses making one upstream request, Vary, what is not
 * stored, the client's own conditional requests, compression of hits, storing while streaming, and purge
 * through the admin API.
 */
class CacheTest {
    static PolicyUpstream upstream;
    static RelayHarness relay;
    static HttpClient admin = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        upstream = new PolicyUpstream();
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - name: zipped
                    match: { path_prefix: /zipped }
                    cluster: c
                    policies:
                      cache: { max_size: 16MiB, max_object_size: 256KiB }
                      compression: { encodings: [gzip], min_size: 100 }
                  - name: big
                    match: { path_prefix: /big }
                    cluster: c
                    policies:
                      cache: { max_size: 16MiB, max_object_size: 2MiB }
                  - name: all
                    match: { path_prefix: / }
                    cluster: c
                    policies:
                      cache: { max_size: 16MiB, max_object_size: 256KiB, lock_timeout: 10s }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                """).with("LIMITS", "{}").with("EP", upstream.address()).start();
    }

    @AfterAll
    static void stop() {
        relay.close();
        upstream.close();
    }

    private static HttpResponse<byte[]> get(Proto proto, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(relay.uri(proto, path)).timeout(Duration.ofSeconds(30));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return relay.client(proto).send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String cacheStatus(HttpResponse<?> res) {
        return res.headers().firstValue("cache-status").orElse("");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Proto.class)
    void aSecondRequestIsServedWithoutReachingTheEndpoint(Proto proto) throws Exception {
        String path = "/hit-" + proto;
        String url = path + "?n=3000&seed=11&cc=max-age%3D60";
        HttpResponse<byte[]> first = get(proto, url);
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(cacheStatus(first)).isEqualTo("h3relay; fwd=uri-miss; stored");

        HttpResponse<byte[]> second = get(proto, url);
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(second.body()).isEqualTo(PolicyUpstream.text(3000, 11));
        assertThat(cacheStatus(second)).startsWith("h3relay; hit; ttl=");
        assertThat(second.headers().firstValue("age")).isPresent();
        assertThat(second.headers().firstValue("content-length")).hasValue("3000");
        assertThat(second.headers().firstValue("cache-control")).hasValue("max-age=60");
        assertThat(second.headers().firstValue("x-request-id")).isPresent()
                .isNotEqualTo(first.headers().firstValue("x-request-id"));
        assertThat(upstream.count(path)).isEqualTo(1);

        // HEAD from the stored GET: the head only, with the body's length
        HttpResponse<byte[]> head = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, url))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(cacheStatus(head)).startsWith("h3relay; hit");
        assertThat(upstream.count(path)).isEqualTo(1);

        // an unsafe method's success invalidates the key (RFC 9111 section 4.4)
        HttpResponse<byte[]> post = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, url))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(post.statusCode()).isEqualTo(200);
        assertThat(cacheStatus(get(proto, url))).isEqualTo("h3relay; fwd=uri-miss; stored");
        assertThat(upstream.count(path)).isEqualTo(3);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Proto.class)
    void aStaleEntryIsRevalidatedWithIfNoneMatchAnd304ServesItWhole(Proto proto) throws Exception {
        String path = "/reval-" + proto;
        String url = path + "?n=4000&seed=12&cc=max-age%3D0&etag=%22v1%22";
        HttpResponse<byte[]> first = get(proto, url);
        assertThat(cacheStatus(first)).isEqualTo("h3relay; fwd=uri-miss; stored");
        assertThat(upstream.requestHeaders.getLast()).doesNotContainKey("if-none-match");

        HttpResponse<byte[]> second = get(proto, url);
        assertThat(upstream.count(path)).isEqualTo(2);
        assertThat(upstream.requestHeaders.getLast().get("if-none-match")).containsExactly("\"v1\"");
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(second.body()).isEqualTo(PolicyUpstream.text(4000, 12));
        assertThat(second.headers().firstValue("etag")).hasValue("\"v1\"");
        assertThat(cacheStatus(second)).isEqualTo("h3relay; fwd=stale; fwd-status=304; stored");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Proto.class)
    void aStaleEntryWithOnlyLastModifiedIsRevalidatedWithIfModifiedSince(Proto proto) throws Exception {
        String path = "/reval-lm-" + proto;
        String lm = "Tue, 01 Dec 2026 10:00:00 GMT";
        String url = path + "?n=2500&seed=18&cc=no-cache&lm=" + java.net.URLEncoder.encode(lm, StandardCharsets.UTF_8);
        assertThat(cacheStatus(get(proto, url))).isEqualTo("h3relay; fwd=uri-miss; stored");
        HttpResponse<byte[]> second = get(proto, url);
        assertThat(upstream.requestHeaders.getLast().get("if-modified-since")).containsExactly(lm);
        assertThat(upstream.requestHeaders.getLast()).doesNotContainKey("if-none-match");
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(second.body()).isEqualTo(PolicyUpstream.text(2500, 18));
        assertThat(cacheStatus(second)).isEqualTo("h3relay; fwd=stale; fwd-status=304; stored");
        assertThat(upstream.count(path)).isEqualTo(2);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Proto.class)
    void aHundredConcurrentMissesMakeOneUpstreamRequest(Proto proto) throws Exception {
        String path = "/coalesce-" + proto;
        String url = path + "?n=5000&seed=13&cc=max-age%3D60&delay=500";
        List<CompletableFuture<HttpResponse<byte[]>>> all = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            all.add(relay.client(proto).sendAsync(HttpRequest.newBuilder(relay.uri(proto, url))
                    .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray()));
        }
        int stored = 0;
        int collapsed = 0;
        for (CompletableFuture<HttpResponse<byte[]>> f : all) {
            HttpResponse<byte[]> res = f.get(60, TimeUnit.SECONDS);
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.body()).isEqualTo(PolicyUpstream.text(5000, 13));
            String cs = cacheStatus(res);
            if (cs.equals("h3relay; fwd=uri-miss; stored")) {
                stored++;
            } else if (cs.equals("h3relay; hit; collapsed")) {
                collapsed++;
            }
        }
        assertThat(upstream.count(path)).isEqualTo(1);
        assertThat(stored).isEqualTo(1);
        // the rest either waited for that fetch or arrived after it was stored
        assertThat(collapsed).isPositive();
        // every exchange ended (a waiter answered from the store still completes its request: on h1 the
        // connection then serves its next request)
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(MetricsScrape.of(relay)
                .value("h3relay_downstream_requests_active", java.util.Map.of())).isZero());
        assertThat(MetricsScrape.of(relay).value("h3relay_cache_requests_total",
                java.util.Map.of("route", "all", "result", "collapsed"))).isGreaterThanOrEqualTo(collapsed);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Proto.class)
    void varyKeepsAVariantPerRequestHeaderValue(Proto proto) throws Exception {
        String path = "/vary-" + proto;
        String url = path + "?n=2000&seed=14&cc=max-age%3D60&vary=Accept-Language";
        assertThat(cacheStatus(get(proto, url, "accept-language", "en"))).isEqualTo("h3relay; fwd=uri-miss; stored");
        assertThat(cacheStatus(get(proto, url, "accept-language", "fr"))).isEqualTo("h3relay; fwd=vary-miss; stored");
        assertThat(cacheStatus(get(proto, url, "accept-language", "en"))).startsWith("h3relay; hit");
        assertThat(cacheStatus(get(proto, url, "accept-language", "fr"))).startsWith("h3relay; hit");
        assertThat(cacheStatus(get(proto, url))).isEqualTo("h3relay; fwd=vary-miss; stored");
        assertThat(upstream.count(path)).isEqualTo(3);
    }

    static Stream<Arguments> notStored() {
        List<Arguments> out = new ArrayList<>();
        for (Proto p : Proto.values()) {
            for (String k : List.of("no-store", "private", "set-cookie", "too-big", "no-freshness", "authorization",
                    "status-500", "request-no-store")) {
                out.add(Arguments.of(p, k));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("notStored")
    void whatMustNotBeStoredGoesUpstreamEveryTime(Proto proto, String kind) throws Exception {
        String path = "/nostore-" + kind + "-" + proto;
        String q = switch (kind) {
            case "no-store" -> "?n=2000&cc=no-store";
            case "private" -> "?n=2000&cc=private,max-age%3D60";
            case "set-cookie" -> "?n=2000&cc=max-age%3D60&cookie=s%3D1";
            case "too-big" -> "?n=300000&cc=max-age%3D60";
            case "no-freshness" -> "?n=2000";
            case "status-500" -> "?n=2000&cc=max-age%3D60&status=500";
            default -> "?n=2000&cc=max-age%3D60";
        };
        String[] headers = switch (kind) {
            case "authorization" -> new String[] {"authorization", "Bearer x"};
            case "request-no-store" -> new String[] {"cache-control", "no-store"};
            default -> new String[0];
        };
        HttpResponse<byte[]> first = get(proto, path + q, headers);
        HttpResponse<byte[]> second = get(proto, path + q, headers);
        assertThat(second.body()).isEqualTo(first.body());
        assertThat(upstream.count(path)).isEqualTo(2);
        assertThat(cacheStatus(second)).doesNotContain("hit").doesNotContain("stored");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Proto.class)
    void theClientsOwnValidatorsGetA304FromTheStore(Proto proto) throws Exception {
        String path = "/cond-" + proto;
        String url = path + "?n=2000&cc=max-age%3D60&etag=%22abc%22";
        get(proto, url);
        HttpResponse<byte[]> res = get(proto, url, "if-none-match", "W/\"zzz\", \"abc\"");
        assertThat(res.statusCode()).isEqualTo(304);
        assertThat(res.body()).isEmpty();
        assertThat(res.headers().firstValue("etag")).hasValue("\"abc\"");
        assertThat(cacheStatus(res)).startsWith("h3relay; hit");
        HttpResponse<byte[]> other = get(proto, url, "if-none-match", "\"nope\"");
        assertThat(other.statusCode()).isEqualTo(200);
        assertThat(upstream.count(path)).isEqualTo(1);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Proto.class)
    void aHitIsCompressedOnTheWayOutAndStoredAsIs(Proto proto) throws Exception {
        String path = "/zipped-" + proto;
        String url = path + "?n=50000&seed=15&cc=max-age%3D60";
        HttpResponse<byte[]> miss = get(proto, url, "accept-encoding", "gzip");
        assertThat(miss.headers().firstValue("content-encoding")).hasValue("gzip");
        HttpResponse<byte[]> hit = get(proto, url, "accept-encoding", "gzip");
        assertThat(cacheStatus(hit)).startsWith("h3relay; hit");
        assertThat(hit.headers().firstValue("content-encoding")).hasValue("gzip");
        assertThat(hit.headers().firstValue("content-length")).hasValue(Integer.toString(hit.body().length));
        assertThat(PythonDecode.lengthAndSha256("gzip", hit.body()))
                .isEqualTo(PythonDecode.expected(PolicyUpstream.text(50000, 15)));
        HttpResponse<byte[]> plain = get(proto, url);
        assertThat(cacheStatus(plain)).startsWith("h3relay; hit");
        assertThat(plain.headers().firstValue("content-encoding")).isEmpty();
        assertThat(plain.body()).isEqualTo(PolicyUpstream.text(50000, 15));
        assertThat(upstream.count(path)).isEqualTo(1);
    }

    /**
     * A cacheable 1 MiB body whose last 64 KiB the endpoint holds back: the client reads everything before
     * them while the response is being stored (no store-then-serve), and once it ends the next request is a hit.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Proto.class)
    void aBodyStreamsToTheClientWhileItIsStored(Proto proto) throws Exception {
        long n = 1L << 20;
        String path = "/big-stored-" + proto;
        upstream.lastChunk = new java.util.concurrent.CountDownLatch(1);
        HttpResponse<InputStream> res = relay.client(proto).send(HttpRequest.newBuilder(
                relay.uri(proto, path + "?n=" + n + "&cc=max-age%3D60")).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        AtomicLong read = new AtomicLong();
        CompletableFuture<Long> reader = CompletableFuture.supplyAsync(() -> {
            byte[] buf = new byte[16 * 1024];
            try (InputStream in = res.body()) {
                int r;
                while ((r = in.read(buf)) >= 0) {
                    read.addAndGet(r);
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return read.get();
        });
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> read.get() >= n - 64 * 1024 || reader.isDone());
            assertThat(read.get()).isEqualTo(n - 64 * 1024);
        } finally {
            upstream.releaseLast();
        }
        assertThat(reader.get(30, TimeUnit.SECONDS)).isEqualTo(n);
        assertThat(cacheStatus(res)).isEqualTo("h3relay; fwd=uri-miss; stored");
        HttpResponse<byte[]> hit = get(proto, path + "?n=" + n + "&cc=max-age%3D60");
        assertThat(cacheStatus(hit)).startsWith("h3relay; hit");
        assertThat(hit.body().length).isEqualTo((int) n);
        assertThat(upstream.count(path)).isEqualTo(1);
    }

    /**
     * A stale entry inside its stale-while-revalidate window is served at once while a background request
     * revalidates it (with the entry's ETag): the client's answer comes before the slow endpoint's.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Proto.class)
    void staleWhileRevalidateServesStaleAndRefreshesInTheBackground(Proto proto) throws Exception {
        String path = "/swr-" + proto;
        // Age 100 > max-age 60: stale as soon as stored, but within the 600 s stale-while-revalidate window
        String url = path + "?n=3000&seed=16&cc=max-age%3D60,stale-while-revalidate%3D600&etag=%22s1%22&age=100";
        assertThat(cacheStatus(get(proto, url))).isEqualTo("h3relay; fwd=uri-miss; stored");
        // The endpoint counts its answer complete after its last write, which can be after the client has it.
        await().atMost(Duration.ofSeconds(5)).until(() -> upstream.completed(path) >= 1);
        assertThat(upstream.completed(path)).isEqualTo(1);

        HttpResponse<byte[]> stale = get(proto, url);
        assertThat(stale.statusCode()).isEqualTo(200);
        assertThat(stale.body()).isEqualTo(PolicyUpstream.text(3000, 16));
        assertThat(cacheStatus(stale)).startsWith("h3relay; hit; ttl=-").endsWith("; detail=stale-while-revalidate");
        assertThat(stale.headers().firstValue("age")).hasValueSatisfying(a -> assertThat(Long.parseLong(a)).isGreaterThanOrEqualTo(100));

        await().atMost(Duration.ofSeconds(10)).until(() -> upstream.completed(path) == 2);
        assertThat(upstream.requestHeaders.getLast().get("if-none-match")).containsExactly("\"s1\"");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(adminCall("GET", "/cache").body())
                .containsPattern("\"route\":\"all\"[^}]*\"revalidated\":[1-9]"));
    }

    @Test
    void staleWhileRevalidateAnswersBeforeTheEndpointDoes() throws Exception {
        String path = "/swr-slow";
        String url = path + "?n=3000&seed=17&cc=max-age%3D60,stale-while-revalidate%3D600&age=100&delay=1500";
        get(Proto.H2, url);
        assertThat(upstream.completed(path)).isEqualTo(1);
        HttpResponse<byte[]> stale = get(Proto.H2, url);
        assertThat(cacheStatus(stale)).endsWith("; detail=stale-while-revalidate");
        // served from the store while the background request still waits for the endpoint's 1.5 s
        assertThat(upstream.completed(path)).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> upstream.completed(path) == 2);
        assertThat(upstream.count(path)).isEqualTo(2);
    }

    @Test
    void purgeThroughTheAdminApi() throws Exception {
        String url = "?n=1000&cc=max-age%3D60";
        for (String p : List.of("/purge/a", "/purge/b", "/purge/c")) {
            get(Proto.H2, p + url);
            assertThat(cacheStatus(get(Proto.H2, p + url))).startsWith("h3relay; hit");
        }
        HttpResponse<String> stats = adminCall("GET", "/cache");
        assertThat(stats.statusCode()).isEqualTo(200);
        assertThat(stats.body()).contains("\"route\":\"all\"").contains("\"hit\":");

        HttpResponse<String> one = adminCall("DELETE", "/cache?path=/purge/a");
        assertThat(one.body()).isEqualTo("{\"purged\":1}");
        assertThat(cacheStatus(get(Proto.H2, "/purge/a" + url))).isEqualTo("h3relay; fwd=uri-miss; stored");
        assertThat(cacheStatus(get(Proto.H2, "/purge/b" + url))).startsWith("h3relay; hit");

        HttpResponse<String> prefix = adminCall("POST", "/cache/purge?prefix=/purge/");
        assertThat(prefix.body()).isEqualTo("{\"purged\":3}");
        assertThat(cacheStatus(get(Proto.H2, "/purge/b" + url))).isEqualTo("h3relay; fwd=uri-miss; stored");
        assertThat(upstream.count("/purge/a")).isEqualTo(2);
        assertThat(upstream.count("/purge/b")).isEqualTo(2);

        assertThat(adminCall("POST", "/cache").statusCode()).isEqualTo(405);
        assertThat(adminCall("GET", "/cache/purge").statusCode()).isEqualTo(405);
        assertThat(adminCall("DELETE", "/cache?path=/a&prefix=/b").statusCode()).isEqualTo(400);
    }

    private static HttpResponse<String> adminCall(String method, String pathAndQuery) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + relay.server().adminAddress().getPort() + pathAndQuery);
        return admin.send(HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    @Test
    void configErrorsAreReportedWithTheirLine() {
        String yaml = """
                listeners:
                  - name: l
                    address: 127.0.0.1:0
                    policies:
                      cache:
                        max_size: 1KiB
                        max_object_size: 2MiB
                        default_ttl: forever
                        lock_timeout: 0
                """;
        Throwable e = org.assertj.core.api.Assertions.catchThrowable(
                () -> io.h3relay.config.ConfigLoader.parse(yaml, null, java.util.Map.of()));
        assertThat(e).hasMessageContaining("line 7: listeners[0].policies.cache.max_object_size: \"2MiB\" (expected: at most max_size (1KiB))")
                .hasMessageContaining("line 8: listeners[0].policies.cache.default_ttl: \"forever\"")
                .hasMessageContaining("line 9: listeners[0].policies.cache.lock_timeout: \"0\"");
    }
}
