package io.h3relay.it;

import io.h3relay.testing.TestCertificates;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Clusters end to end, over h1 and h2: load balancing across real endpoints, consistent hashing by
 * header, TLS to endpoints (verified, and refused when the certificate is not trusted), mutual TLS to
 * endpoints, and pool limits (max requests per connection).
 */
class ClusterTest {
    @TempDir
    static Path otherCa;

    static TestEndpoint a;
    static TestEndpoint b;
    static TestEndpoint c;
    static TestEndpoint secure;
    static TestEndpoint mtls;
    static TestEndpoint untrusted;
    static TestEndpoint limited;
    static RelayHarness relay;

    @BeforeAll
    static void start() {
        a = TestEndpoint.start("a");
        b = TestEndpoint.start("b");
        c = TestEndpoint.start("c");
        TestCertificates certs = RelayHarness.certs();
        secure = TestEndpoint.startTls("secure", certs, false);
        mtls = TestEndpoint.startTls("mtls", certs, true);
        untrusted = TestEndpoint.startTls("untrusted", TestCertificates.create(otherCa, "localhost", "127.0.0.1"),
                false);
        limited = TestEndpoint.start("limited");
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: rr, match: { path_prefix: /rr/ }, cluster: rr }
                  - { name: wrr, match: { path_prefix: /wrr/ }, cluster: wrr }
                  - { name: hash, match: { path_prefix: /hash/ }, cluster: hash }
                  - { name: secure, match: { path_prefix: /secure/ }, cluster: secure }
                  - { name: mtls, match: { path_prefix: /mtls/ }, cluster: mtls }
                  - { name: untrusted, match: { path_prefix: /untrusted/ }, cluster: untrusted }
                  - { name: limited, match: { path_prefix: /limited/ }, cluster: limited }
                clusters:
                  - name: rr
                    load_balancer: round_robin
                    endpoints: [ { address: "@A@" }, { address: "@B@" }, { address: "@C@" } ]
                  - name: wrr
                    load_balancer: weighted_round_robin
                    endpoints: [ { address: "@A@", weight: 3 }, { address: "@B@", weight: 1 } ]
                  - name: hash
                    load_balancer: ring_hash
                    hash_on: { header: x-user }
                    endpoints: [ { address: "@A@" }, { address: "@B@" }, { address: "@C@" } ]
                  - name: secure
                    endpoints: [ { address: "localhost:@SECURE_PORT@" } ]
                    tls: { verify: true, ca: "@CA@" }
                  - name: mtls
                    endpoints: [ { address: "localhost:@MTLS_PORT@" } ]
                    tls: { verify: true, ca: "@CA@", certificate: "@CLIENT_CERT@", private_key: "@CLIENT_KEY@" }
                  - name: untrusted
                    endpoints: [ { address: "localhost:@UNTRUSTED_PORT@" } ]
                    tls: { verify: true, ca: "@CA@" }
                  - name: limited
                    endpoints: [ { address: "@LIMITED@" } ]
                    pool: { max_requests_per_connection: 2 }
                """).with("LIMITS", "{}").with("A", a.address()).with("B", b.address()).with("C", c.address())
                .with("SECURE_PORT", secure.port()).with("MTLS_PORT", mtls.port())
                .with("UNTRUSTED_PORT", untrusted.port()).with("LIMITED", limited.address())
                .with("CA", certs.caCertPath()).with("CLIENT_CERT", certs.clientCertPath())
                .with("CLIENT_KEY", certs.clientKeyPath()).start();
    }

    @AfterAll
    static void stop() {
        relay.close();
        for (TestEndpoint e : new TestEndpoint[] {a, b, c, secure, mtls, untrusted, limited}) {
            e.close();
        }
    }

    private HttpResponse<String> get(Proto proto, String path, String... headers) throws Exception {
        HttpRequest.Builder req = HttpRequest.newBuilder(relay.uri(proto, path));
        for (int i = 0; i < headers.length; i += 2) {
            req.header(headers[i], headers[i + 1]);
        }
        return relay.client(proto).send(req.build(), HttpResponse.BodyHandlers.ofString());
    }

    private Map<String, Integer> spread(Proto proto, String path, int n, String... headers) throws Exception {
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < n; i++) {
            HttpResponse<String> res = get(proto, path, headers);
            assertThat(res.statusCode()).isEqualTo(200);
            seen.merge(res.headers().firstValue("x-endpoint").orElseThrow(), 1, Integer::sum);
        }
        return seen;
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void roundRobinVisitsEveryEndpointEvenly(Proto proto) throws Exception {
        assertThat(spread(proto, "/rr/x", 30)).containsOnly(Map.entry("a", 10), Map.entry("b", 10),
                Map.entry("c", 10));
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void weightedRoundRobinFollowsWeights(Proto proto) throws Exception {
        assertThat(spread(proto, "/wrr/x", 40)).containsOnly(Map.entry("a", 30), Map.entry("b", 10));
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void ringHashKeepsAUserOnOneEndpoint(Proto proto) throws Exception {
        for (String user : new String[] {"alice", "bob", "carol", "dave"}) {
            assertThat(spread(proto, "/hash/x", 5, "x-user", user)).hasSize(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void verifiedTlsToEndpoints(Proto proto) throws Exception {
        HttpResponse<String> ok = get(proto, "/secure/x");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.headers().firstValue("x-endpoint")).hasValue("secure");
        assertThat(get(proto, "/mtls/x").headers().firstValue("x-endpoint")).hasValue("mtls");

        HttpResponse<String> refused = get(proto, "/untrusted/x");
        assertThat(refused.statusCode()).isEqualTo(502);
        assertThat(refused.body()).contains("\"code\":\"upstream_tls_failed\"");
        assertThat(untrusted.requestCount()).isZero();
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void maxRequestsPerConnectionOpensNewConnections(Proto proto) throws Exception {
        int before = limited.connectionCount();
        for (int i = 0; i < 6; i++) {
            assertThat(get(proto, "/limited/x").statusCode()).isEqualTo(200);
        }
        assertThat(limited.connectionCount() - before).isGreaterThanOrEqualTo(3);
        assertThat(limited.requests().stream().mapToInt(r -> r.connection()).boxed()
                .collect(java.util.stream.Collectors.groupingBy(x -> x, java.util.stream.Collectors.counting()))
                .values()).allMatch(count -> count <= 2);
    }
}
