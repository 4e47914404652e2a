package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.testing.Curl;
import io.h3relay.testing.RecordedRequest;
import io.h3relay.testing.TestEndpoint;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * policies.ip_rules over h1, h2 and h3 (JDK client and our h3 client) and curl: a listener default, a
 * route's own rules, a route switching the default off; trusted_proxies naming the client through
 * X-Forwarded-For; the PROXY protocol v1 and v2 (raw bytes with a spoofed source, and curl's
 * --haproxy-protocol through TLS and h2) making the proxied address the client of rules and X-Forwarded-For.
 */
class IpRulesTest {
    static TestEndpoint endpoint;
    static RelayHarness relay;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start("ip");
        relay = RelayHarness.yaml("""
                admin: { address: 127.0.0.1:0 }
                listeners:
                  - name: tls
                    address: 127.0.0.1:0
                    protocols: [http1, http2, http3]
                    tls: { certificate: "@CERT@", private_key: "@KEY@" }
                    trusted_proxies: [127.0.0.1]
                    policies:
                      ip_rules: { allow: [10.0.0.0/8, "2001:db8::/32"] }
                  - name: proxied
                    address: 127.0.0.1:0
                    proxy_protocol: true
                    policies:
                      ip_rules: { deny: [192.0.2.0/24] }
                  - name: proxied-tls
                    address: 127.0.0.1:0
                    protocols: [http1, http2]
                    tls: { certificate: "@CERT@", private_key: "@KEY@" }
                    proxy_protocol: true
                routes:
                  - name: open
                    match: { path_prefix: /open }
                    cluster: c
                    policies: { ip_rules: off }
                  - name: own
                    match: { path_prefix: /own }
                    cluster: c
                    policies: { ip_rules: { allow: [127.0.0.1/32], deny: [127.0.0.2] } }
                  - name: v6only
                    match: { path_prefix: /v6only }
                    cluster: c
                    policies: { ip_rules: { allow: ["::1/128"] } }
                  - name: inherit
                    match: { path_prefix: / }
                    cluster: c
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                shutdown: { drain_timeout: 1s }
                """).with("EP", endpoint.address()).start();
    }

    @AfterAll
    static void stop() {
        relay.close();
        endpoint.close();
    }

    private static HttpResponse<String> get(Proto proto, String path, String xff) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(relay.uri(proto, path)).timeout(Duration.ofSeconds(10));
        if (xff != null) {
            b.header("x-forwarded-for", xff);
        }
        return relay.client(proto).send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void rulesOfTheListenerAndTheRouteDecide(Proto proto) throws Exception {
        Envelope.assertError(get(proto, "/inherit", null).statusCode(), get(proto, "/inherit", null).body(),
                403, "forbidden");
        assertThat(get(proto, "/open", null).statusCode()).isEqualTo(200);
        assertThat(endpoint.lastRequest().header("via")).hasValue(proto.via + " h3relay");
        assertThat(get(proto, "/own", null).statusCode()).isEqualTo(200);
        HttpResponse<String> v6 = get(proto, "/v6only", null);
        Envelope.assertError(v6.statusCode(), v6.body(), 403, "forbidden");
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void aTrustedProxyNamesTheClientInXForwardedFor(Proto proto) throws Exception {
        // The peer 127.0.0.1 is trusted: the right-most untrusted hop is the client (10.1.2.3 passes the
        // listener's allow list); an untrusted right-most hop wins over anything to its left.
        HttpResponse<String> res = get(proto, "/inherit", "203.0.113.9, 10.1.2.3");
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        RecordedRequest seen = endpoint.lastRequest();
        assertThat(seen.header("x-forwarded-for")).hasValue("203.0.113.9, 10.1.2.3, 127.0.0.1");
        HttpResponse<String> spoofed = get(proto, "/inherit", "10.1.2.3, 198.51.100.1");
        Envelope.assertError(spoofed.statusCode(), spoofed.body(), 403, "forbidden");
        HttpResponse<String> v6 = get(proto, "/inherit", "2001:db8::7");
        assertThat(v6.statusCode()).isEqualTo(200);
        // Not an address: the walk stops at the last trusted hop, the peer (refused by the allow list).
        HttpResponse<String> garbage = get(proto, "/inherit", "10.1.2.3, unknown");
        assertThat(garbage.statusCode()).isEqualTo(403);
    }

    @ParameterizedTest
    @ValueSource(strings = {"h1", "h2"})
    void curlIsRefusedAndLetThroughAlike(String mode) {
        Curl.Response denied = curl(mode, "/inherit").execute();
        Envelope.assertError(denied.status(), denied.bodyString(), 403, "forbidden");
        assertThat(denied.httpVersion()).isEqualTo(mode.equals("h1") ? "1.1" : "2");
        assertThat(curl(mode, "/inherit").header("x-forwarded-for", "10.9.9.9").execute().status()).isEqualTo(200);
        assertThat(curl(mode, "/open").execute().status()).isEqualTo(200);
    }

    private static Curl curl(String mode, String path) {
        Curl c = Curl.to(relay.tlsUrl(path)).cacert(RelayHarness.certs().caCertPath());
        return mode.equals("h1") ? c.http1_1() : c.http2();
    }

    @Test
    void proxyProtocolV1SourceIsTheClient() throws Exception {
        String allowed = exchange(("PROXY TCP4 198.51.100.20 127.0.0.1 40000 80\r\n").getBytes(StandardCharsets.US_ASCII));
        assertThat(allowed).startsWith("HTTP/1.1 200");
        assertThat(endpoint.lastRequest().header("x-forwarded-for")).hasValue("198.51.100.20");
        String denied = exchange(("PROXY TCP4 192.0.2.7 127.0.0.1 40000 80\r\n").getBytes(StandardCharsets.US_ASCII));
        assertThat(denied).startsWith("HTTP/1.1 403").contains("\"code\":\"forbidden\"");
        String v6 = exchange(("PROXY TCP6 2001:db8::5 ::1 40000 80\r\n").getBytes(StandardCharsets.US_ASCII));
        assertThat(v6).startsWith("HTTP/1.1 200");
        assertThat(endpoint.lastRequest().header("x-forwarded-for")).hasValue("2001:db8::5");
    }

    @Test
    void proxyProtocolV2SourceIsTheClient() throws Exception {
        assertThat(exchange(v2(new byte[] {(byte) 198, 51, 100, 21}))).startsWith("HTTP/1.1 200");
        assertThat(endpoint.lastRequest().header("x-forwarded-for")).hasValue("198.51.100.21");
        assertThat(exchange(v2(new byte[] {(byte) 192, 0, 2, 8}))).startsWith("HTTP/1.1 403");
    }

    @Test
    void aRefusalKeepsTheConnectionAndIsCounted() throws Exception {
        int port = relay.server().listenerAddress("proxied").getPort();
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write("PROXY TCP4 192.0.2.9 127.0.0.1 40000 80\r\n".getBytes(StandardCharsets.US_ASCII));
            String req = "GET /inherit HTTP/1.1\r\nHost: localhost\r\n\r\n";
            out.write((req + req.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"))
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String both = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(both.split("HTTP/1.1 403", -1)).as("two 403s on one connection: %s", both).hasSize(3);
        }
        assertThat(MetricsScrape.of(relay).value("h3relay_policy_decisions_total", java.util.Map.of(
                "listener", "proxied", "policy", "ip_rules", "decision", "forbidden"))).isGreaterThanOrEqualTo(2);
    }

    @Test
    void aConnectionWithoutAProxyHeaderIsClosed() throws Exception {
        assertThat(exchange(new byte[0])).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"h1", "h2"})
    void curlSendsAProxyHeaderBeforeTls(String mode) {
        int port = relay.server().listenerAddress("proxied-tls").getPort();
        Curl c = Curl.to("https://localhost:" + port + "/open").cacert(RelayHarness.certs().caCertPath())
                .arg("--haproxy-protocol");
        Curl.Response res = (mode.equals("h1") ? c.http1_1() : c.http2()).execute();
        assertThat(res.status()).isEqualTo(200);
        assertThat(res.httpVersion()).isEqualTo(mode.equals("h1") ? "1.1" : "2");
        assertThat(endpoint.lastRequest().header("x-forwarded-for")).hasValue("127.0.0.1");
        // Without the header, the TLS listener closes the connection before any TLS.
        assertThat(Curl.to("https://localhost:" + port + "/open").cacert(RelayHarness.certs().caCertPath())
                .timeout(Duration.ofSeconds(5)).execute().status()).isNotEqualTo(200);
    }

    /** A v2 PROXY header (TCP over IPv4) from {@code source}:40000 to 127.0.0.1:80. */
    private static byte[] v2(byte[] source) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        b.write(0x21); // version 2, PROXY
        b.write(0x11); // AF_INET, STREAM
        b.write(0);
        b.write(12);
        b.writeBytes(source);
        b.writeBytes(new byte[] {127, 0, 0, 1});
        b.writeBytes(new byte[] {(byte) 0x9c, 0x40, 0, 80});
        return b.toByteArray();
    }

    /** Sends {@code header} then one h1 request on the proxied listener; returns what came back until close. */
    private static String exchange(byte[] header) throws Exception {
        int port = relay.server().listenerAddress("proxied").getPort();
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(header);
            out.write("GET /inherit HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        } catch (java.net.SocketException e) {
            return ""; // reset by the proxy
        }
    }
}
