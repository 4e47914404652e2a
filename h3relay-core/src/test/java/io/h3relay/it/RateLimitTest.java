package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.testing.Curl;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * policies.rate_limit over h1, h2 and h3 and curl: the burst passes with the RateLimit headers counting
 * down, then 429 with the envelope, Retry-After and r=0; dry run only counts; keys by header (each test its
 * own bucket), by client, by route; the decisions in h3relay_policy_decisions_total.
 */
class RateLimitTest {
    static RelayHarness relay;

    @BeforeAll
    static void start() {
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - name: limited
                    match: { path_prefix: /limited }
                    respond: { status: 200, body: ok }
                    policies:
                      rate_limit: { requests_per_second: 0.2, burst: 3, key: { header: X-Tenant } }
                  - name: dry
                    match: { path_prefix: /dry }
                    respond: { status: 200, body: ok }
                    policies:
                      rate_limit: { requests_per_second: 0.2, burst: 1, dry_run: true }
                  - name: whole
                    match: { path_prefix: /whole }
                    respond: { status: 200, body: ok }
                    policies:
                      rate_limit: { name: whole-route, requests_per_second: 0.2, burst: 2, key: route, headers: false }
                """).with("LIMITS", "{}").start();
    }

    @AfterAll
    static void stop() {
        relay.close();
    }

    private static HttpResponse<String> get(Proto proto, String path, String tenant) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(relay.uri(proto, path)).timeout(Duration.ofSeconds(10));
        if (tenant != null) {
            b.header("x-tenant", tenant);
        }
        return relay.client(proto).send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void burstThen429WithHeaders(Proto proto) throws Exception {
        String tenant = "t-" + proto;
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> ok = get(proto, "/limited", tenant);
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.headers().firstValue("ratelimit-policy")).hasValue("\"tls/limited\";q=3;w=15");
            String left = "\"tls/limited\";r=" + (2 - i) + ";t=";
            assertThat(ok.headers().firstValue("ratelimit")).hasValueSatisfying(v -> assertThat(v).startsWith(left));
        }
        HttpResponse<String> limited = get(proto, "/limited", tenant);
        Envelope.assertError(limited.statusCode(), limited.body(), 429, "too_many_requests");
        long retryAfter = Long.parseLong(limited.headers().firstValue("retry-after").orElseThrow());
        assertThat(retryAfter).isBetween(1L, 5L); // a token every 5 s
        assertThat(limited.headers().firstValue("ratelimit")).hasValue("\"tls/limited\";r=0;t=" + retryAfter);
        assertThat(get(proto, "/limited", tenant + "-other").statusCode()).as("another key, another bucket")
                .isEqualTo(200);
    }

    @ParameterizedTest
    @ValueSource(strings = {"h1", "h2"})
    void curlSees429(String mode) {
        String tenant = "curl-" + mode;
        for (int i = 0; i < 3; i++) {
            assertThat(curl(mode, tenant).execute().status()).isEqualTo(200);
        }
        Curl.Response res = curl(mode, tenant).execute();
        Envelope.assertError(res.status(), res.bodyString(), 429, "too_many_requests");
        assertThat(res.header("retry-after")).isPresent();
        assertThat(res.httpVersion()).isEqualTo(mode.equals("h1") ? "1.1" : "2");
    }

    private static Curl curl(String mode, String tenant) {
        Curl c = Curl.to(relay.tlsUrl("/limited")).cacert(RelayHarness.certs().caCertPath()).header("x-tenant", tenant);
        return mode.equals("h1") ? c.http1_1() : c.http2();
    }

    @Test
    void dryRunOnlyCounts() throws Exception {
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> res = get(Proto.H2, "/dry", null);
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.headers().firstValue("ratelimit")).isEmpty();
        }
        MetricsScrape m = MetricsScrape.of(relay);
        assertThat(m.value("h3relay_policy_decisions_total", Map.of("route", "dry", "decision", "dry_run_limited")))
                .isEqualTo(3);
        assertThat(m.value("h3relay_policy_decisions_total", Map.of("route", "dry", "decision", "allowed")))
                .isEqualTo(1);
    }

    @Test
    void aRouteKeyIsOneBucketForEveryClientAndProtocol() throws Exception {
        assertThat(get(Proto.H1, "/whole", null).statusCode()).isEqualTo(200);
        HttpResponse<String> second = get(Proto.H3, "/whole", null);
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(second.headers().firstValue("ratelimit")).as("headers: false").isEmpty();
        HttpResponse<String> third = get(Proto.H2, "/whole", "anyone");
        assertThat(third.statusCode()).isEqualTo(429);
        assertThat(third.headers().firstValue("retry-after")).as("Retry-After even without the headers").isPresent();
        assertThat(MetricsScrape.of(relay).value("h3relay_policy_decisions_total",
                Map.of("route", "whole", "decision", "limited"))).isEqualTo(1);
    }
}
