package io.h3relay.it;

import io.h3relay.testing.Http3TestClient;
import io.h3relay.testing.RecordedRequest;
import io.h3relay.testing.TestCertificates;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/**
 * A client on {@code [::1]}: the endpoint sees it in the canonical text form of RFC 5952 ({@code ::1}) in
 * {@code X-Forwarded-For} and {@code Forwarded} on every protocol (h3 once said {@code 0:0:0:0:0:0:0:1%0},
 * h1/h2 {@code 0:0:0:0:0:0:0:1}), and the access log says the same.
 */
class Ipv6ClientTest {
    private static final Load JSON = new Load(LoadSettings.builder().build());

    static TestCertificates certs;
    static TestEndpoint endpoint;
    static RelayHarness relay;
    static Path log;
    static final Map<Proto, HttpClient> clients = new EnumMap<>(Proto.class);

    @BeforeAll
    static void start() throws Exception {
        assumeThat(loopbackHasIpv6()).as("IPv6 on the loopback interface (ip -6 addr)").isTrue();
        Path dir = Files.createTempDirectory("h3relay-it-v6");
        certs = TestCertificates.create(dir.resolve("certs"), "localhost", "::1");
        log = dir.resolve("access.log");
        endpoint = TestEndpoint.start("v6");
        relay = RelayHarness.yaml("""
                admin: { address: "127.0.0.1:0" }
                listeners:
                  - name: v6
                    address: "[::1]:0"
                    protocols: [http1, http2, http3]
                    tls: { certificate: "@V6CERT@", private_key: "@V6KEY@" }
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                observability: { access_log: { path: "@LOG@", format: json } }
                shutdown: { drain_timeout: 2s }
                """).with("V6CERT", certs.certPath()).with("V6KEY", certs.keyPath())
                .with("EP", endpoint.address()).with("LOG", log).start();
        for (Proto proto : List.of(Proto.H1, Proto.H2)) {
            clients.put(proto, HttpClient.newBuilder().version(proto.version).sslContext(certs.trustingSslContext())
                    .connectTimeout(Duration.ofSeconds(5)).build());
        }
        clients.put(Proto.H3, new Http3TestClient(certs.caCert()));
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            clients.values().forEach(HttpClient::close);
            relay.close();
            endpoint.close();
        }
    }

    private static boolean loopbackHasIpv6() throws Exception {
        NetworkInterface lo = NetworkInterface.getByInetAddress(InetAddress.getByName("::1"));
        return lo != null && lo.inetAddresses().anyMatch(a -> a instanceof Inet6Address && a.isLoopbackAddress());
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void clientOnIpv6LoopbackIsForwardedAndLoggedAsColonColonOne(Proto proto) throws Exception {
        int port = relay.server().listenerAddress("v6").getPort();
        HttpClient client = clients.get(proto);
        String id = "v6-" + proto;
        HttpResponse<String> res = client.send(HttpRequest.newBuilder(URI.create("https://[::1]:" + port + "/headers"))
                .header("x-request-id", id).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(res.statusCode()).isEqualTo(200);
        RecordedRequest seen = endpoint.lastRequest();
        assertThat(seen.header("via")).hasValue(proto.via + " h3relay"); // the protocol really used
        assertThat(seen.header("x-forwarded-for")).hasValue("::1");
        assertThat(seen.header("forwarded")).hasValueSatisfying(f -> assertThat(f).startsWith("for=\"[::1]\";"));

        await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                assertThat(Files.readAllLines(log)).anyMatch(l -> l.contains("\"" + id + "\"")));
        String line = Files.readAllLines(log).stream().filter(l -> l.contains("\"" + id + "\"")).findFirst().orElseThrow();
        @SuppressWarnings("unchecked")
        Map<String, Object> e = (Map<String, Object>) JSON.loadFromString(line);
        assertThat(e.get("protocol")).isEqualTo(MetricsTest.protocolLabel(proto));
        assertThat(e.get("client")).isEqualTo("::1");
    }
}
