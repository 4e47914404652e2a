package io.h3relay.it;

import io.h3relay.testing.Http3TestClient;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code http3.keep_alive_interval} over real UDP: h3relay, a NAT-like relay ({@link UdpNat}) and Netty's
 * HTTP/3 client (which sends no keep-alives of its own). The relay counts the datagrams the server sends,
 * forgets a binding the client has not used for a while, and can turn silent.
 */
class Http3KeepAliveTest {
    private static final Map<String, String> TLS = Map.of("listener", "tls");

    private static RelayHarness start(TestEndpoint endpoint, String http3Block) {
        return RelayHarness.yaml(RelayHarness.LISTENERS.replace("protocols: [http1, http2, http3]",
                "protocols: [http1, http2, http3]\n    http3: " + http3Block) + """
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                """).with("LIMITS", "{}").with("EP", endpoint.address()).start();
    }

    private static UdpNat nat(RelayHarness relay, Duration bindingTimeout) {
        return new UdpNat(new InetSocketAddress("127.0.0.1", relay.tlsPort()), bindingTimeout);
    }

    private static int get(Http3TestClient client, UdpNat nat, String path) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + nat.port()
                + path)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode();
    }

    private static double metric(RelayHarness relay, String family) throws Exception {
        return MetricsScrape.of(relay).value(family, TLS);
    }

    /**
     * Idle for 2.5 s, longer than both the idle timeout (1 s) and the NAT's binding timeout (600 ms): the
     * server keeps sending every 200 ms, the client's answers keep the binding, and the second request goes
     * over the same connection and the same binding.
     */
    @Test
    void keepAlivesHoldAnIdleConnectionAndItsNatBindingOpen() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("ka");
             RelayHarness relay = start(endpoint, "{ idle_timeout: 1s, keep_alive_interval: 200ms }");
             UdpNat nat = nat(relay, Duration.ofMillis(600));
             Http3TestClient client = new Http3TestClient(RelayHarness.certs().caCert())) {
            assertThat(get(client, nat, "/a")).isEqualTo(200);
            Thread.sleep(300); // the response and its acknowledgements are over
            long from = System.nanoTime();
            Thread.sleep(2_000);
            long to = System.nanoTime();
            Thread.sleep(200);

            // About 10 keep-alives in those 2 s; at least one every 400 ms.
            assertThat(nat.fromServerBetween(from, to)).isGreaterThanOrEqualTo(5);
            assertThat(get(client, nat, "/b")).isEqualTo(200);
            assertThat(nat.bindings()).as("NAT bindings opened").isEqualTo(1);
            assertThat(nat.dropped()).as("server datagrams dropped by the NAT").isZero();
            assertThat(metric(relay, "h3relay_quic_connections_total")).as("QUIC connections").isEqualTo(1);
            assertThat(metric(relay, "h3relay_quic_connections_active")).isEqualTo(1);
        }
    }

    /** The control: with the default (off) an idle connection hears nothing and ends at its idle timeout. */
    @Test
    void withoutKeepAliveAnIdleConnectionIsSilentAndTimesOut() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("ka");
             RelayHarness relay = start(endpoint, "{ idle_timeout: 1s }");
             UdpNat nat = nat(relay, Duration.ofMillis(600));
             Http3TestClient client = new Http3TestClient(RelayHarness.certs().caCert())) {
            assertThat(get(client, nat, "/a")).isEqualTo(200);
            Thread.sleep(300);
            long from = System.nanoTime();
            Thread.sleep(600);
            long to = System.nanoTime();

            assertThat(nat.fromServerBetween(from, to)).isZero();
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(metric(relay, "h3relay_quic_connections_active")).isZero());
            assertThat(get(client, nat, "/b")).isEqualTo(200);
            assertThat(metric(relay, "h3relay_quic_connections_total")).as("a second connection").isEqualTo(2);
        }
    }

    /**
     * A client that falls silent (the relay drops everything) is not kept alive: the server's connection ends
     * within the idle timeout (1 s) plus one interval after the client's last packet, give or take scheduling.
     */
    @Test
    void aSilentClientIsNotKeptAliveBeyondTheIdleTimeout() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("ka");
             RelayHarness relay = start(endpoint, "{ idle_timeout: 1s, keep_alive_interval: 200ms }");
             UdpNat nat = nat(relay, null);
             Http3TestClient client = new Http3TestClient(RelayHarness.certs().caCert())) {
            assertThat(get(client, nat, "/a")).isEqualTo(200);
            Thread.sleep(700); // keep-alives flowing: the connection outlived most of its idle timeout already
            nat.blackhole(true);
            long silentSince = System.nanoTime();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                    assertThat(metric(relay, "h3relay_quic_connections_active")).isZero());
            long closedAfterMillis = (System.nanoTime() - silentSince) / 1_000_000;

            assertThat(closedAfterMillis).as("ms from the client's silence to the connection's end")
                    .isBetween(700L, 2_200L);
        }
    }

}
