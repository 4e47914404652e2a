package io.h3relay.it;

import io.h3relay.testing.Http3TestClient;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Listeners added, removed and replaced by a reload, over real sockets on h1, h2 and h3: a new listener binds
 * and serves; a removed one stops accepting at once while a download in flight on it finishes, then closes; a
 * listener whose protocols change is replaced (a new socket, the old one drained); a new listener that cannot
 * bind rejects the reload whole (counted as rejected) and the running config stays.
 */
class ListenerReloadTest {
    private static final String BASE = """
            admin: { address: 127.0.0.1:0 }
            listeners:
              - name: tls
                address: 127.0.0.1:0
                protocols: [http1, http2, http3]
                tls: { certificate: "@CERT@", private_key: "@KEY@" }
            @EXTRA@
            routes:
              - { name: all, match: { path_prefix: / }, cluster: c }
            clusters:
              - { name: c, endpoints: [ { address: "@EP@" } ] }
            shutdown: { drain_timeout: 20s }
            """;
    private static final String EXTRA = """
              - name: extra
                address: "@EXTRA_ADDRESS@"
                protocols: @EXTRA_PROTOCOLS@
                tls: { certificate: "@CERT@", private_key: "@KEY@" }
            """;

    @TempDir
    Path dir;
    Path file;
    TestEndpoint endpoint;
    RelayHarness relay;
    final List<HttpClient> clients = new ArrayList<>();

    @BeforeEach
    void start() {
        endpoint = TestEndpoint.start("ep");
        file = dir.resolve("h3relay.yaml");
    }

    @AfterEach
    void stop() {
        clients.forEach(HttpClient::close);
        if (relay != null) {
            relay.close();
        }
        endpoint.close();
    }

    private RelayHarness.Builder config(String extra, String address, String protocols) {
        return RelayHarness.yaml(BASE.replace("@EXTRA@", extra)).with("EXTRA_ADDRESS", address)
                .with("EXTRA_PROTOCOLS", protocols).with("EP", endpoint.address());
    }

    private HttpResponse<String> reloadWith(RelayHarness.Builder next) throws Exception {
        Files.writeString(file, next.text());
        try (HttpClient admin = HttpClient.newHttpClient()) {
            return admin.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + relay.server().adminAddress().getPort() + "/config/reload"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    /** A fresh client (so a fresh connection) for {@code proto}. */
    private HttpClient client(Proto proto) {
        HttpClient c = proto == Proto.H3 ? new Http3TestClient(RelayHarness.certs().caCert())
                : HttpClient.newBuilder().version(proto.version).sslContext(RelayHarness.certs().trustingSslContext())
                .connectTimeout(Duration.ofSeconds(3)).build();
        clients.add(c);
        return c;
    }

    private static HttpRequest request(int port, String path) {
        return HttpRequest.newBuilder(URI.create("https://localhost:" + port + path))
                .timeout(Duration.ofSeconds(5)).build();
    }

    private String via(String path) {
        return endpoint.requests().stream().filter(r -> r.path().equals(path)).findFirst().orElseThrow()
                .header("via").orElse("");
    }

    private double reloads(String result) {
        return relay.server().telemetry().sum("h3relay_config_reloads", Map.of("result", result));
    }

    private static boolean tcpRefused(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            return false;
        } catch (java.io.IOException e) {
            return true;
        }
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void anAddedListenerBindsAndServes(Proto proto) throws Exception {
        relay = config("", "", "").startFrom(file);
        HttpResponse<String> res = reloadWith(config(EXTRA, "127.0.0.1:0", "[http1, http2, http3]"));
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);

        int port = relay.server().listenerAddress("extra").getPort();
        HttpResponse<String> got = client(proto).send(request(port, "/added"), HttpResponse.BodyHandlers.ofString());
        assertThat(got.statusCode()).isEqualTo(200);
        assertThat(via("/added")).contains(proto.via + " h3relay");
        if (proto != Proto.H3) {
            assertThat(got.headers().firstValue("alt-svc")).hasValueSatisfying(v -> assertThat(v)
                    .startsWith("h3=\":" + port + "\""));
        }
        assertThat(relay.server().http3Enabled("extra")).isTrue();
        // The listener that was there goes on as before.
        assertThat(client(proto).send(request(relay.tlsPort(), "/kept"), HttpResponse.BodyHandlers.ofString())
                .statusCode()).isEqualTo(200);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void aRemovedListenerStopsAcceptingAndItsDownloadInFlightFinishes(Proto proto) throws Exception {
        relay = config(EXTRA, "127.0.0.1:0", "[http1, http2, http3]").startFrom(file);
        int port = relay.server().listenerAddress("extra").getPort();
        CompletableFuture<HttpResponse<byte[]>> download = client(proto).sendAsync(
                HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/slow?chunks=10&interval=200&size=10000"))
                        .build(), HttpResponse.BodyHandlers.ofByteArray());
        await().atMost(Duration.ofSeconds(5))
                .until(() -> endpoint.requests().stream().anyMatch(r -> r.path().equals("/slow")));

        HttpResponse<String> res = reloadWith(config("", "", ""));
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);

        assertThatThrownBy(() -> relay.server().listenerAddress("extra")).isInstanceOf(IllegalArgumentException.class);
        assertThat(download).as("still streaming after the reload").isNotDone();
        assertThat(tcpRefused(port)).as("the TCP socket no longer accepts").isTrue();
        // While the download drains (h3: new QUIC connections are closed as they arrive; the client may take
        // its handshake timeout to give up, by which time the download may be over).
        assertThatThrownBy(() -> client(proto).send(request(port, "/late"), HttpResponse.BodyHandlers.ofString()))
                .as("a new connection to the removed listener").isInstanceOf(Exception.class);

        HttpResponse<byte[]> done = download.get(15, TimeUnit.SECONDS);
        assertThat(done.statusCode()).isEqualTo(200);
        assertThat(done.body()).hasSize(100_000);
        assertThat(endpoint.requests().stream().noneMatch(r -> r.path().equals("/late"))).isTrue();
        assertThat(client(proto).send(request(relay.tlsPort(), "/kept"), HttpResponse.BodyHandlers.ofString())
                .statusCode()).isEqualTo(200);
    }

    @Test
    void aListenerWhoseProtocolsChangeIsReplaced() throws Exception {
        relay = config(EXTRA, "127.0.0.1:0", "[http1, http2, http3]").startFrom(file);
        int oldPort = relay.server().listenerAddress("extra").getPort();

        HttpResponse<String> res = reloadWith(config(EXTRA, "127.0.0.1:0", "[http1, http2]"));
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);

        int newPort = relay.server().listenerAddress("extra").getPort();
        assertThat(newPort).isNotEqualTo(oldPort);
        assertThat(relay.server().http3Enabled("extra")).isFalse();
        HttpResponse<String> got = client(Proto.H2).send(request(newPort, "/replaced"),
                HttpResponse.BodyHandlers.ofString());
        assertThat(got.statusCode()).isEqualTo(200);
        assertThat(got.headers().firstValue("alt-svc")).isEmpty();
        await().atMost(Duration.ofSeconds(5)).until(() -> tcpRefused(oldPort));
    }

    @Test
    void aNewListenerThatCannotBindRejectsTheReload() throws Exception {
        relay = config("", "", "").startFrom(file);
        try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            HttpResponse<String> res = reloadWith(config(EXTRA, "127.0.0.1:" + taken.getLocalPort(), "[http1, http2]"));
            assertThat(res.statusCode()).as(res.body()).isEqualTo(400);
            assertThat(res.body()).contains("\"result\":\"rejected\"", "listener extra: cannot bind");
        }
        assertThat(reloads("rejected")).isEqualTo(1.0);
        assertThat(relay.server().runtime().generation()).isEqualTo(1);
        assertThatThrownBy(() -> relay.server().listenerAddress("extra")).isInstanceOf(IllegalArgumentException.class);
        for (Proto proto : Proto.values()) {
            assertThat(client(proto).send(request(relay.tlsPort(), "/" + proto), HttpResponse.BodyHandlers.ofString())
                    .statusCode()).isEqualTo(200);
        }
    }
}
