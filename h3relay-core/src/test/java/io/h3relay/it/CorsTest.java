package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.testing.Curl;
import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.TestEndpoint;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * policies.cors over h1, h2 and h3: preflights answered by the proxy (the endpoint never sees them), the
 * CORS headers on actual responses, refusals; curl h1/h2; and headless Chromium on a page of another origin
 * making cross-origin fetches over h1, h2 and h3, one allowed (a preflighted PUT with a custom header, an
 * exposed response header) and one refused.
 */
class CorsTest {
    /** Served by the proxy on the plain listener (another origin than the TLS listener's API). */
    private static final String PAGE = """
            <!doctype html><html><body>waiting</body><script>
            (async () => {
              const api = new URLSearchParams(location.search).get('api');
              const out = [];
              try {
                const r = await fetch(api + '/cors/headers', {method: 'PUT', headers: {'x-custom': 'yes'}, body: 'hi'});
                out.push('allowed=' + r.status + ' exposed=' + r.headers.get('x-endpoint'));
              } catch (e) { out.push('allowed=error'); }
              try {
                const r = await fetch(api + '/denied/headers');
                out.push('denied=' + r.status);
              } catch (e) { out.push('denied=error'); }
              document.body.textContent = out.join(' ');
            })();
            </script></html>
            """;

    static TestEndpoint endpoint;
    static RelayHarness relay;
    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start("cors-ep");
        relay = RelayHarness.yaml("""
                admin: { address: 127.0.0.1:0 }
                listeners:
                  - name: tls
                    address: 127.0.0.1:0
                    protocols: [http1, http2, http3]
                    tls: { certificate: "@CERT@", private_key: "@KEY@" }
                    routes: [cors, denied, sub]
                  - name: plain
                    address: 127.0.0.1:@PAGEPORT@
                    routes: [page]
                routes:
                  - name: page
                    match: { path: /page }
                    respond: { status: 200, body: @PAGE@, headers: { content-type: text/html } }
                  - name: cors
                    match: { path_prefix: /cors }
                    cluster: c
                    policies:
                      cors:
                        allow_origins: ["http://127.0.0.1:@PAGEPORT@", "https://app.example.com"]
                        allow_methods: [GET, PUT]
                        allow_headers: [x-custom, content-type]
                        expose_headers: [x-endpoint]
                        allow_credentials: true
                        max_age: 10m
                  - name: sub
                    match: { path_prefix: /sub }
                    cluster: c
                    policies:
                      cors: { allow_origins: ["https://*.example.com"], allow_headers: ["*"] }
                  - name: denied
                    match: { path_prefix: /denied }
                    cluster: c
                    policies:
                      cors: { allow_origins: ["https://elsewhere.example"] }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                shutdown: { drain_timeout: 1s }
                """).with("EP", endpoint.address()).with("PAGE", jsonString(PAGE))
                .with("PAGEPORT", PAGE_PORT).start();
    }

    /** The plain listener's port must be in the policy, so it is chosen up front. */
    private static final int PAGE_PORT = freePort();

    private static int freePort() {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String jsonString(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }

    @AfterAll
    static void stop() {
        relay.close();
        endpoint.close();
    }

    private static HttpResponse<String> send(Proto proto, String method, String path, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(relay.uri(proto, path)).timeout(Duration.ofSeconds(10))
                .method(method, HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return relay.client(proto).send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void preflightIsAnsweredByTheProxy(Proto proto) throws Exception {
        int before = endpoint.requestCount();
        HttpResponse<String> res = send(proto, "OPTIONS", "/cors/x", "origin", "https://app.example.com",
                "access-control-request-method", "PUT", "access-control-request-headers", "X-Custom");
        assertThat(res.statusCode()).isEqualTo(204);
        assertThat(res.headers().firstValue("access-control-allow-origin")).hasValue("https://app.example.com");
        assertThat(res.headers().firstValue("access-control-allow-methods")).hasValue("GET, PUT");
        assertThat(res.headers().firstValue("access-control-allow-headers")).hasValue("x-custom, content-type");
        assertThat(res.headers().firstValue("access-control-allow-credentials")).hasValue("true");
        assertThat(res.headers().firstValue("access-control-max-age")).hasValue("600");
        assertThat(res.headers().firstValue("vary")).hasValueSatisfying(v -> assertThat(v).contains("Origin"));
        assertThat(endpoint.requestCount()).as("the endpoint never sees a preflight").isEqualTo(before);

        HttpResponse<String> wrongOrigin = send(proto, "OPTIONS", "/cors/x", "origin", "https://evil.example",
                "access-control-request-method", "PUT");
        Envelope.assertError(wrongOrigin.statusCode(), wrongOrigin.body(), 403, "forbidden");
        assertThat(wrongOrigin.headers().firstValue("access-control-allow-origin")).isEmpty();
        HttpResponse<String> wrongMethod = send(proto, "OPTIONS", "/cors/x", "origin", "https://app.example.com",
                "access-control-request-method", "DELETE");
        Envelope.assertError(wrongMethod.statusCode(), wrongMethod.body(), 403, "forbidden");
        HttpResponse<String> wrongHeader = send(proto, "OPTIONS", "/cors/x", "origin", "https://app.example.com",
                "access-control-request-method", "GET", "access-control-request-headers", "x-custom, x-other");
        Envelope.assertError(wrongHeader.statusCode(), wrongHeader.body(), 403, "forbidden");
        assertThat(endpoint.requestCount()).isEqualTo(before);

        HttpResponse<String> anyHeader = send(proto, "OPTIONS", "/sub/x", "origin", "https://a.b.example.com",
                "access-control-request-method", "POST", "access-control-request-headers", "x-whatever");
        assertThat(anyHeader.statusCode()).isEqualTo(204);
        assertThat(anyHeader.headers().firstValue("access-control-allow-headers")).hasValue("x-whatever");
        assertThat(send(proto, "OPTIONS", "/sub/x", "origin", "https://example.com",
                "access-control-request-method", "GET").statusCode()).as("the apex is not a subdomain").isEqualTo(403);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void actualResponsesCarryTheHeaders(Proto proto) throws Exception {
        HttpResponse<String> res = send(proto, "GET", "/cors/headers", "origin", "https://app.example.com");
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("access-control-allow-origin")).hasValue("https://app.example.com");
        assertThat(res.headers().firstValue("access-control-expose-headers")).hasValue("x-endpoint");
        assertThat(res.headers().firstValue("access-control-allow-credentials")).hasValue("true");
        assertThat(res.headers().allValues("vary")).anyMatch(v -> v.contains("Origin"));
        assertThat(endpoint.lastRequest().header("via")).hasValue(proto.via + " h3relay");

        HttpResponse<String> other = send(proto, "GET", "/cors/headers", "origin", "https://evil.example");
        assertThat(other.statusCode()).as("not a preflight: the request goes on, the browser refuses it")
                .isEqualTo(200);
        assertThat(other.headers().firstValue("access-control-allow-origin")).isEmpty();
        HttpResponse<String> none = send(proto, "GET", "/cors/headers");
        assertThat(none.headers().firstValue("access-control-allow-origin")).isEmpty();
        assertThat(none.headers().allValues("vary")).anyMatch(v -> v.contains("Origin"));
        // A plain OPTIONS (no Access-Control-Request-Method) is the endpoint's.
        int before = endpoint.requestCount();
        send(proto, "OPTIONS", "/cors/headers", "origin", "https://app.example.com");
        assertThat(endpoint.requestCount()).isEqualTo(before + 1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"h1", "h2"})
    void curlPreflight(String mode) {
        Curl c = Curl.to(relay.tlsUrl("/cors/x")).cacert(RelayHarness.certs().caCertPath()).method("OPTIONS")
                .header("origin", "https://app.example.com").header("access-control-request-method", "GET");
        Curl.Response res = (mode.equals("h1") ? c.http1_1() : c.http2()).execute();
        assertThat(res.status()).isEqualTo(204);
        assertThat(res.httpVersion()).isEqualTo(mode.equals("h1") ? "1.1" : "2");
        assertThat(res.header("access-control-allow-origin")).hasValue("https://app.example.com");
    }

    @ParameterizedTest
    @ValueSource(strings = {"h1", "h2", "h3"})
    void chromiumFetchesCrossOrigin(String mode) {
        Path chromium = ExternalTool.require("chromium");
        int api = relay.tlsPort();
        int plain = relay.server().listenerAddress("plain").getPort();
        assertThat(plain).isEqualTo(PAGE_PORT);
        int puts = (int) endpoint.requests().stream().filter(r -> r.method().equals("PUT")).count();
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(chromium.toString(),
                "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + tmp.resolve("chromium-" + mode),
                "--host-resolver-rules=MAP localhost 127.0.0.1",
                "--ignore-certificate-errors-spki-list=" + RelayHarness.certs().spkiSha256Base64(),
                "--virtual-time-budget=10000"));
        if (mode.equals("h1")) {
            args.add("--disable-http2");
        } else if (mode.equals("h3")) {
            args.add("--enable-quic");
            args.add("--origin-to-force-quic-on=localhost:" + api);
        }
        args.add("--dump-dom");
        args.add("http://127.0.0.1:" + plain + "/page?api=https://localhost:" + api);
        ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(60), args.toArray(String[]::new));
        String log = r.stderr().lines().filter(l -> !l.contains("dbus")).collect(Collectors.joining("\n"));
        assertThat(r.exitCode()).as(log).isZero();
        String dom = r.stdoutString();
        assertThat(dom).as(log).contains("allowed=200 exposed=cors-ep").contains("denied=error");
        var put = endpoint.requests().stream().filter(q -> q.method().equals("PUT")).toList();
        assertThat(put).hasSize(puts + 1);
        assertThat(put.get(put.size() - 1).header("via")).hasValue(
                (mode.equals("h1") ? "1.1" : mode.equals("h2") ? "2" : "3") + " h3relay");
        assertThat(endpoint.requests()).noneMatch(q -> q.method().equals("OPTIONS") && q.uri().startsWith("/cors"));
    }
}
