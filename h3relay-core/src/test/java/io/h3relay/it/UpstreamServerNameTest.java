package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.h3relay.config.ConfigLoader;
import io.h3relay.testing.TestCertificates;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code clusters[].tls.server_name}: the name sent as SNI and verified in the endpoint's certificate, for
 * {@code http1} and {@code http2} clusters whose endpoint is dialled by IP address. The endpoint is a second
 * h3relay whose TLS listener picks its certificate by SNI: {@code api.internal} (from the CA the cluster
 * trusts) only when that name is sent, else a default certificate for {@code default.internal} from another
 * CA. So a 200 proves both halves: the SNI went out (the right certificate came back) and the certificate was
 * verified against {@code api.internal}, not {@code 127.0.0.1}.
 */
class UpstreamServerNameTest {
    @TempDir
    static Path dir;
    static RelayHarness endpoint;
    static RelayHarness relay;
    static TestCertificates api;

    @BeforeAll
    static void start() {
        api = TestCertificates.create(dir.resolve("api"), "api.internal");
        TestCertificates other = TestCertificates.create(dir.resolve("default"), "default.internal");
        endpoint = RelayHarness.yaml("""
                admin: { address: 127.0.0.1:0 }
                listeners:
                  - name: tls
                    address: 127.0.0.1:0
                    protocols: [http1, http2]
                    tls:
                      certificate: "@DEFCERT@"
                      private_key: "@DEFKEY@"
                      sni:
                        - { server_names: [api.internal], certificate: "@APICERT@", private_key: "@APIKEY@" }
                routes:
                  - name: hello
                    match: { path_prefix: / }
                    respond: { status: 200, body: "endpoint api.internal" }
                """).with("DEFCERT", other.certPath()).with("DEFKEY", other.keyPath())
                .with("APICERT", api.certPath()).with("APIKEY", api.keyPath()).start();
        int port = endpoint.server().listenerAddress("tls").getPort();
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: h1-named, match: { path_prefix: /http1/named }, cluster: h1-named }
                  - { name: h1-plain, match: { path_prefix: /http1/plain }, cluster: h1-plain }
                  - { name: h1-wrong, match: { path_prefix: /http1/wrong }, cluster: h1-wrong }
                  - { name: h2-named, match: { path_prefix: /http2/named }, cluster: h2-named }
                  - { name: h2-plain, match: { path_prefix: /http2/plain }, cluster: h2-plain }
                  - { name: h2-wrong, match: { path_prefix: /http2/wrong }, cluster: h2-wrong }
                clusters:
                  - { name: h1-named, endpoints: [ { address: "127.0.0.1:@PORT@" } ], tls: { ca: "@CA@", server_name: api.internal } }
                  - { name: h1-plain, endpoints: [ { address: "127.0.0.1:@PORT@" } ], tls: { ca: "@CA@" } }
                  - { name: h1-wrong, endpoints: [ { address: "127.0.0.1:@PORT@" } ], tls: { ca: "@CA@", server_name: default.internal } }
                  - { name: h2-named, protocol: http2, endpoints: [ { address: "127.0.0.1:@PORT@" } ], tls: { ca: "@CA@", server_name: API.internal } }
                  - { name: h2-plain, protocol: http2, endpoints: [ { address: "127.0.0.1:@PORT@" } ], tls: { ca: "@CA@" } }
                  - { name: h2-wrong, protocol: http2, endpoints: [ { address: "127.0.0.1:@PORT@" } ], tls: { ca: "@CA@", server_name: default.internal } }
                """).with("LIMITS", "{}").with("PORT", port).with("CA", api.caCertPath()).start();
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            relay.close();
        }
        if (endpoint != null) {
            endpoint.close();
        }
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return relay.client(Proto.H2).send(HttpRequest.newBuilder(relay.uri(Proto.H2, path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"http1", "http2"})
    void theServerNameIsSentAndVerified(String protocol) throws Exception {
        HttpResponse<String> res = get("/" + protocol + "/named");
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        assertThat(res.body()).isEqualTo("endpoint api.internal");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http1", "http2"})
    void withoutItTheAddressIsVerifiedAndFails(String protocol) throws Exception {
        HttpResponse<String> res = get("/" + protocol + "/plain");
        Envelope.assertError(res.statusCode(), res.body(), 502, "upstream_tls_failed");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http1", "http2"})
    void anotherNameGetsAnotherCertificateAndFails(String protocol) throws Exception {
        HttpResponse<String> res = get("/" + protocol + "/wrong");
        Envelope.assertError(res.statusCode(), res.body(), 502, "upstream_tls_failed");
    }

    @Test
    void serverNameAndSniAreOneSetting() throws Exception {
        String base = """
                listeners: [ { name: l, address: "127.0.0.1:0", protocols: [http1] } ]
                routes: [ { name: r, match: { path_prefix: / }, cluster: c } ]
                clusters:
                  - name: c
                    endpoints: [ { address: "127.0.0.1:1" } ]
                """;
        assertThatThrownBy(() -> ConfigLoader.parse(base + "    tls: { server_name: a.internal, sni: b.internal }\n",
                null, Map.of())).hasMessageContaining("clusters[0].tls.server_name")
                .hasMessageContaining("server_name or sni, not both");
        assertThatThrownBy(() -> ConfigLoader.parse(base + "    tls: { server_name: \"not a name!\" }\n",
                null, Map.of())).hasMessageContaining("line 6: clusters[0].tls.server_name");
        assertThat(ConfigLoader.parse(base + "    tls: { server_name: Api.Internal }\n", null, Map.of())
                .clusters().get(0).tls().serverName("127.0.0.1")).isEqualTo("api.internal");
        assertThat(ConfigLoader.parse(base + "    tls: { verify: true }\n", null, Map.of())
                .clusters().get(0).tls().serverName("127.0.0.1")).isEqualTo("127.0.0.1");
    }
}
