package io.h3relay.it;

import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Routing over h1 and h2: hosts (exact, wildcard), paths (exact, prefix, regex), methods (405 + Allow),
 * header conditions, declared order, respond, redirect, rewrites, header add/remove, 404.
 * Host matching uses {@code *.localhost} names that curl-free clients resolve via the URI's authority:
 * Java's HttpClient sends the URI host as Host / :authority, and {@code localhost} subdomains resolve to
 * loopback on this machine's resolver only sometimes, so hosts are tested with a Host override through
 * the {@code x-test-host}-free path: the route table sees {@code localhost}, {@code 127.0.0.1}.
 */
class RoutingTest {
    static TestEndpoint api;
    static TestEndpoint web;
    static TestEndpoint canary;
    static RelayHarness relay;

    @BeforeAll
    static void start() {
        api = TestEndpoint.start("api");
        web = TestEndpoint.start("web");
        canary = TestEndpoint.start("canary");
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - name: ping
                    match: { path: /ping }
                    respond: { status: 200, body: "pong", headers: { content-type: text/plain, x-direct: "yes" } }
                  - name: old
                    match: { path_prefix: /old/ }
                    redirect: { path: /new/, status: 308 }
                  - name: to-https
                    match: { path: /insecure }
                    redirect: { scheme: https, port: 9443 }
                  - name: canary
                    match: { path_prefix: /api/, headers: { x-canary: "true" } }
                    cluster: canary
                  - name: api
                    match: { hosts: ["localhost"], path_prefix: /api/, methods: [GET, POST] }
                    cluster: api
                    rewrite: { strip_prefix: /api }
                    request_headers: { add: { x-gateway: h3relay }, remove: [x-internal-debug] }
                    response_headers: { add: { x-frame-options: DENY }, remove: [x-endpoint] }
                  - name: admin-put
                    match: { path_prefix: /api/, methods: [PUT] }
                    cluster: api
                  - name: versioned
                    match: { path_regex: "^/v[0-9]+/" }
                    cluster: api
                    rewrite: { prefix: /versioned }
                  - name: by-ip
                    match: { hosts: ["127.0.0.1"], path_prefix: /ip/ }
                    cluster: web
                  - name: wild
                    match: { hosts: ["*.localhost"], path_prefix: / }
                    cluster: canary
                  - name: site
                    match: { hosts: ["localhost"], path_prefix: /site/ }
                    cluster: web
                clusters:
                  - name: api
                    endpoints: [ { address: "@API@" } ]
                  - name: web
                    endpoints: [ { address: "@WEB@" } ]
                  - name: canary
                    endpoints: [ { address: "@CANARY@" } ]
                """).with("LIMITS", "{}").with("API", api.address()).with("WEB", web.address())
                .with("CANARY", canary.address()).start();
    }

    @AfterAll
    static void stop() {
        relay.close();
        api.close();
        web.close();
        canary.close();
    }

    private HttpResponse<String> get(Proto proto, String path) throws Exception {
        return send(proto, HttpRequest.newBuilder(relay.uri(proto, path)).build());
    }

    private HttpResponse<String> send(Proto proto, HttpRequest req) throws Exception {
        return relay.client(proto).send(req, HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void respondsDirectly(Proto proto) throws Exception {
        HttpResponse<String> res = get(proto, "/ping");
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body()).isEqualTo("pong");
        assertThat(res.headers().firstValue("x-direct")).hasValue("yes");
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void redirectsKeepingTheQuery(Proto proto) throws Exception {
        HttpResponse<String> res = get(proto, "/old/page?q=1");
        assertThat(res.statusCode()).isEqualTo(308);
        assertThat(res.headers().firstValue("location"))
                .hasValue("https://localhost:" + relay.tlsPort() + "/new/?q=1");

        HttpResponse<String> scheme = get(proto, "/insecure");
        assertThat(scheme.statusCode()).isEqualTo(301);
        assertThat(scheme.headers().firstValue("location")).hasValue("https://localhost:9443/insecure");
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void forwardsByPrefixWithRewriteAndHeaderOps(Proto proto) throws Exception {
        HttpResponse<String> res = send(proto, HttpRequest.newBuilder(relay.uri(proto, "/api/users?id=7"))
                .header("x-internal-debug", "1").build());
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("x-frame-options")).hasValue("DENY");
        assertThat(res.headers().firstValue("x-endpoint")).isEmpty();
        var seen = api.lastRequest();
        assertThat(seen.uri()).isEqualTo("/users?id=7");
        assertThat(seen.header("x-gateway")).hasValue("h3relay");
        assertThat(seen.header("x-internal-debug")).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void stripsPrefixDownToRoot(Proto proto) throws Exception {
        assertThat(get(proto, "/api/").statusCode()).isEqualTo(200);
        assertThat(api.lastRequest().uri()).isEqualTo("/");
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void headerConditionWinsInDeclaredOrder(Proto proto) throws Exception {
        HttpResponse<String> res = send(proto, HttpRequest.newBuilder(relay.uri(proto, "/api/x"))
                .header("x-canary", "true").build());
        assertThat(res.headers().firstValue("x-endpoint")).hasValue("canary");
        assertThat(canary.lastRequest().uri()).isEqualTo("/api/x");
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void methodsNotAllowedGet405WithAllowFromAllMatchingRoutes(Proto proto) throws Exception {
        HttpResponse<String> res = send(proto, HttpRequest.newBuilder(relay.uri(proto, "/api/x"))
                .DELETE().build());
        assertThat(res.statusCode()).isEqualTo(405);
        assertThat(res.headers().firstValue("allow")).hasValue("GET, POST, PUT");
        assertThat(res.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(res.body()).contains("\"code\":\"method_not_allowed\"", "\"status\":405");

        HttpResponse<String> put = send(proto, HttpRequest.newBuilder(relay.uri(proto, "/api/y"))
                .PUT(HttpRequest.BodyPublishers.ofString("x")).build());
        assertThat(put.statusCode()).isEqualTo(200);
        assertThat(api.lastRequest().uri()).isEqualTo("/api/y");
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void regexRouteWithPrefixRewrite(Proto proto) throws Exception {
        assertThat(get(proto, "/v2/items").statusCode()).isEqualTo(200);
        assertThat(api.lastRequest().uri()).isEqualTo("/versioned/v2/items");
        assertThat(get(proto, "/vx/items").statusCode()).isEqualTo(404);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void hostsMatchExactlyIgnoringPortAndCase(Proto proto) throws Exception {
        // Same listener reached as 127.0.0.1: the "localhost" routes do not match, the IP route does.
        HttpClient client = relay.client(proto);
        URI byIp = URI.create("https://127.0.0.1:" + relay.tlsPort() + "/ip/a");
        HttpResponse<String> res = client.send(HttpRequest.newBuilder(byIp).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("x-endpoint")).hasValue("web");

        URI siteByIp = URI.create("https://127.0.0.1:" + relay.tlsPort() + "/site/a");
        assertThat(client.send(HttpRequest.newBuilder(siteByIp).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode()).isEqualTo(404);
        assertThat(get(proto, "/site/a").headers().firstValue("x-endpoint")).hasValue("web");
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void unknownPathsGet404JsonEnvelope(Proto proto) throws Exception {
        HttpResponse<String> res = get(proto, "/nothing/here");
        assertThat(res.statusCode()).isEqualTo(404);
        assertThat(res.headers().firstValue("content-type")).hasValue("application/json");
        String id = res.headers().firstValue("x-request-id").orElseThrow();
        assertThat(res.body()).isEqualTo("{\"error\":{\"status\":404,\"code\":\"route_not_found\",\"message\":"
                + "\"no route for GET /nothing/here\",\"request_id\":\"" + id + "\"}}\n");
    }
}
