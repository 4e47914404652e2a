package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.h3relay.testing.Curl;
import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.RecordedRequest;
import io.h3relay.testing.TestEndpoint;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * policies.auth over h1, h2 and h3 (and curl): JWTs made by Python's PyJWT (RS256, ES256, EdDSA) accepted,
 * with claims forwarded as headers and spoofed copies removed; expired, not yet valid, wrong audience,
 * wrong issuer, wrong key, no exp, alg none and HS256 refused with 401 and WWW-Authenticate; a required
 * claim missing: 403; keys from a JWKS URL, refreshed (a rotated key accepted after the refresh); API keys
 * stored as SHA-256; HTTP Basic against a bcrypt hash made by glibc's crypt (Python); the client
 * certificate's subject of an mTLS listener forwarded, an unlisted subject refused.
 */
class AuthTest {
    static TestEndpoint endpoint;
    static RelayHarness relay;
    static HttpServer jwksServer;
    static final AtomicReference<byte[]> served = new AtomicReference<>();
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        Path python = ExternalTool.require("/usr/bin/python3");
        ExternalTool.Result made = ExternalTool.run(Duration.ofSeconds(60), python.toString(),
                Path.of(AuthTest.class.getResource("/auth/make_tokens.py").toURI()).toString(), dir.toString());
        assertThat(made.exitCode()).as(made.stderr()).isZero();
        ExternalTool.Result hashed = ExternalTool.run(Duration.ofSeconds(30), python.toString(), "-W", "ignore", "-c",
                "import crypt; print(crypt.crypt('open sesame', crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2**6)))");
        assertThat(hashed.exitCode()).as(hashed.stderr()).isZero();
        String bcrypt = hashed.stdoutString().strip();
        assertThat(bcrypt).startsWith("$2b$06$");

        served.set(Files.readAllBytes(dir.resolve("jwks.json")));
        jwksServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        jwksServer.createContext("/jwks", ex -> {
            byte[] body = served.get();
            ex.getResponseHeaders().set("content-type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        jwksServer.start();

        endpoint = TestEndpoint.start("auth-ep");
        relay = RelayHarness.yaml("""
                admin: { address: 127.0.0.1:0 }
                listeners:
                  - name: tls
                    address: 127.0.0.1:0
                    protocols: [http1, http2, http3]
                    tls: { certificate: "@CERT@", private_key: "@KEY@" }
                    routes: [jwt, admin, url, key, basic]
                  - name: mtls
                    address: 127.0.0.1:0
                    protocols: [http1, http2]
                    tls: { certificate: "@CERT@", private_key: "@KEY@", client_auth: optional, client_ca: "@CA@" }
                    routes: [cert, cert-listed]
                routes:
                  - name: jwt
                    match: { path_prefix: /jwt }
                    cluster: c
                    policies:
                      auth:
                        identity_header: X-Auth-Identity
                        jwt:
                          jwks_file: "@JWKS@"
                          issuer: https://issuer.test
                          audiences: [api]
                          claims_to_headers: { sub: X-User, email: X-Email }
                  - name: admin
                    match: { path_prefix: /admin }
                    cluster: c
                    policies:
                      auth:
                        jwt: { jwks_file: "@JWKS@", audiences: [api], required_claims: { scope: admin } }
                  - name: url
                    match: { path_prefix: /url }
                    cluster: c
                    policies:
                      auth: { jwt: { jwks_url: "@JWKSURL@", refresh: 300ms, algorithms: [RS256] } }
                  - name: key
                    match: { path_prefix: /key }
                    cluster: c
                    policies:
                      auth:
                        identity_header: X-Auth-Identity
                        api_keys: { header: X-Api-Key, keys: [ { name: ci, sha256: "@KEYSHA@" } ] }
                  - name: basic
                    match: { path_prefix: /basic }
                    cluster: c
                    policies:
                      auth:
                        identity_header: X-Auth-Identity
                        basic: { realm: staff, users: [ { name: alice, bcrypt: "@BCRYPT@" } ] }
                  - name: cert
                    match: { path_prefix: /cert }
                    cluster: c
                    policies:
                      auth: { identity_header: X-Auth-Identity, client_cert: { header: X-Client-Subject } }
                  - name: cert-listed
                    match: { path_prefix: /listed }
                    cluster: c
                    policies:
                      auth: { client_cert: { subjects: ["CN=someone else"] } }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                shutdown: { drain_timeout: 1s }
                """).with("EP", endpoint.address()).with("JWKS", dir.resolve("jwks.json"))
                .with("JWKSURL", "http://127.0.0.1:" + jwksServer.getAddress().getPort() + "/jwks")
                .with("KEYSHA", HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                        .digest("k3y-for-ci".getBytes(StandardCharsets.UTF_8))))
                .with("BCRYPT", bcrypt).with("CA", RelayHarness.certs().caCertPath()).start();
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            relay.close();
        }
        if (endpoint != null) {
            endpoint.close();
        }
        if (jwksServer != null) {
            jwksServer.stop(0);
        }
    }

    private static String token(String name) throws Exception {
        return Files.readString(dir.resolve(name + ".jwt")).strip();
    }

    private static HttpResponse<String> get(Proto proto, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(relay.uri(proto, path)).timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        // Bounded even if an exchange never answers (our h3 client's send waits without a limit).
        return relay.client(proto).sendAsync(b.build(), HttpResponse.BodyHandlers.ofString())
                .get(20, java.util.concurrent.TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void pythonTokensAreAcceptedAndClaimsForwarded(Proto proto) throws Exception {
        for (String alg : List.of("rs256", "es256", "eddsa", "skewed")) {
            HttpResponse<String> res = get(proto, "/jwt/headers", "authorization", "Bearer " + token(alg),
                    "x-user", "spoofed", "x-auth-identity", "spoofed");
            assertThat(res.statusCode()).as(alg + ": " + res.body()).isEqualTo(200);
            RecordedRequest seen = endpoint.lastRequest();
            assertThat(seen.header("via")).hasValue(proto.via + " h3relay");
            assertThat(seen.header("x-user")).hasValue("user-42");
            assertThat(seen.header("x-email")).hasValue("u42@example.test");
            assertThat(seen.header("x-auth-identity")).hasValue("user-42");
            assertThat(seen.header("authorization")).as("the bearer token goes on").isPresent();
        }
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void badTokensAreRefusedWith401(Proto proto) throws Exception {
        HttpResponse<String> none = get(proto, "/jwt/headers");
        Envelope.assertError(none.statusCode(), none.body(), 401, "unauthorized");
        assertThat(none.headers().firstValue("www-authenticate")).hasValue("Bearer realm=\"h3relay\"");
        int before = endpoint.requestCount();
        for (String bad : List.of("expired", "future", "wrong-aud", "wrong-iss", "wrong-key", "no-exp", "none",
                "hs256")) {
            HttpResponse<String> res = get(proto, "/jwt/headers", "authorization", "Bearer " + token(bad));
            Envelope.assertError(res.statusCode(), res.body(), 401, "unauthorized");
            assertThat(res.headers().firstValue("www-authenticate")).as(bad)
                    .hasValueSatisfying(v -> assertThat(v).contains("error=\"invalid_token\""));
        }
        HttpResponse<String> garbage = get(proto, "/jwt/headers", "authorization", "Bearer not.a.token");
        assertThat(garbage.statusCode()).isEqualTo(401);
        assertThat(endpoint.requestCount()).as("no refused request reaches the endpoint").isEqualTo(before);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void aMissingRequiredClaimIs403(Proto proto) throws Exception {
        HttpResponse<String> read = get(proto, "/admin/x", "authorization", "Bearer " + token("rs256"));
        Envelope.assertError(read.statusCode(), read.body(), 403, "forbidden");
        assertThat(get(proto, "/admin/x", "authorization", "Bearer " + token("admin")).statusCode()).isEqualTo(200);
    }

    @Test
    void keysFromAUrlAreRefreshed() throws Exception {
        assertThat(get(Proto.H2, "/url/x", "authorization", "Bearer " + token("rs256")).statusCode()).isEqualTo(200);
        assertThat(get(Proto.H2, "/url/x", "authorization", "Bearer " + token("es256")).statusCode())
                .as("algorithms: [RS256]").isEqualTo(401);
        assertThat(get(Proto.H2, "/url/x", "authorization", "Bearer " + token("rotated")).statusCode()).isEqualTo(401);
        served.set(Files.readAllBytes(dir.resolve("rotated-jwks.json")));
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() ->
                get(Proto.H2, "/url/x", "authorization", "Bearer " + token("rotated")).statusCode() == 200);
        assertThat(get(Proto.H3, "/url/x", "authorization", "Bearer " + token("rs256")).statusCode())
                .as("the old key is gone, and the cached verification with it").isEqualTo(401);
        served.set(Files.readAllBytes(dir.resolve("jwks.json")));
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void apiKeysAndBasic(Proto proto) throws Exception {
        assertThat(get(proto, "/key/headers", "x-api-key", "k3y-for-ci").statusCode()).isEqualTo(200);
        RecordedRequest seen = endpoint.lastRequest();
        assertThat(seen.header("x-auth-identity")).hasValue("ci");
        assertThat(seen.header("x-api-key")).as("the key stays here").isEmpty();
        HttpResponse<String> wrong = get(proto, "/key/headers", "x-api-key", "guess");
        Envelope.assertError(wrong.statusCode(), wrong.body(), 401, "unauthorized");
        assertThat(wrong.headers().firstValue("www-authenticate")).hasValue("ApiKey header=\"x-api-key\"");

        String good = "Basic " + Base64.getEncoder().encodeToString("alice:open sesame".getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 2; i++) { // bcrypt off the loop, then the cached verification
            assertThat(get(proto, "/basic/headers", "authorization", good).statusCode()).isEqualTo(200);
            assertThat(endpoint.lastRequest().header("x-auth-identity")).hasValue("alice");
            assertThat(endpoint.lastRequest().header("authorization")).as("the password stays here").isEmpty();
        }
        String bad = "Basic " + Base64.getEncoder().encodeToString("alice:wrong".getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> refused = get(proto, "/basic/headers", "authorization", bad);
        Envelope.assertError(refused.statusCode(), refused.body(), 401, "unauthorized");
        assertThat(refused.headers().firstValue("www-authenticate"))
                .hasValue("Basic realm=\"staff\", charset=\"UTF-8\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"h1", "h2"})
    void curlWithAClientCertificateAndWithTokens(String mode) throws Exception {
        int port = relay.server().listenerAddress("mtls").getPort();
        Curl withCert = Curl.to("https://localhost:" + port + "/cert/headers").cacert(RelayHarness.certs().caCertPath())
                .clientCert(RelayHarness.certs().clientCertPath(), RelayHarness.certs().clientKeyPath())
                .header("x-client-subject", "CN=spoofed");
        Curl.Response res = (mode.equals("h1") ? withCert.http1_1() : withCert.http2()).execute();
        assertThat(res.status()).as(res.bodyString()).isEqualTo(200);
        String subject = RelayHarness.certs().clientCert().getSubjectX500Principal().getName();
        assertThat(endpoint.lastRequest().header("x-client-subject")).hasValue(subject);
        assertThat(endpoint.lastRequest().header("x-auth-identity")).hasValue(subject);

        Curl noCert = Curl.to("https://localhost:" + port + "/cert/headers").cacert(RelayHarness.certs().caCertPath());
        Curl.Response refused = (mode.equals("h1") ? noCert.http1_1() : noCert.http2()).execute();
        Envelope.assertError(refused.status(), refused.bodyString(), 403, "forbidden");
        Curl listed = Curl.to("https://localhost:" + port + "/listed/headers").cacert(RelayHarness.certs().caCertPath())
                .clientCert(RelayHarness.certs().clientCertPath(), RelayHarness.certs().clientKeyPath());
        Curl.Response other = (mode.equals("h1") ? listed.http1_1() : listed.http2()).execute();
        Envelope.assertError(other.status(), other.bodyString(), 403, "forbidden");

        Curl jwt = Curl.to(relay.tlsUrl("/jwt/headers")).cacert(RelayHarness.certs().caCertPath())
                .header("authorization", "Bearer " + token("eddsa"));
        assertThat((mode.equals("h1") ? jwt.http1_1() : jwt.http2()).execute().status()).isEqualTo(200);
        Curl expired = Curl.to(relay.tlsUrl("/jwt/headers")).cacert(RelayHarness.certs().caCertPath())
                .header("authorization", "Bearer " + token("expired"));
        Curl.Response e = (mode.equals("h1") ? expired.http1_1() : expired.http2()).execute();
        assertThat(e.status()).isEqualTo(401);
        assertThat(e.header("www-authenticate")).hasValueSatisfying(v -> assertThat(v).contains("expired"));
    }
}
