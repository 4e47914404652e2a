package io.h3relay.it;

import io.h3relay.server.RelayServer;
import io.h3relay.server.StartException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Binding is all or none: when one listener (or the admin listener) cannot bind, the start fails with a
 * clear message and every port bound before it, TCP and UDP, is free again.
 */
class StartAllOrNoneTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private static final String CONFIG = """
            listeners:
              - name: first
                address: 127.0.0.1:@FIRST@
                protocols: [http1, http2, http3]
                tls: { certificate: "@CERT@", private_key: "@KEY@" }
                routes: [r]
              - { name: second, address: 127.0.0.1:@SECOND@, protocols: [http1], routes: [r] }
            routes:
              - { name: r, match: { path_prefix: / }, respond: { status: 200, body: ok } }
            admin: { address: 127.0.0.1:@ADMIN@ }
            """;

    /** Ports {@link #freePort} handed out: the kernel may hand a just-closed port out again (CI once got one twice). */
    private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A port free for both TCP and UDP right now, and not handed out by this class before. */
    private static int freePort() throws IOException {
        for (int i = 0; i < 50; i++) {
            try (ServerSocket tcp = new ServerSocket(0, 1, LOOPBACK)) {
                int port = tcp.getLocalPort();
                try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(LOOPBACK, port))) {
                    if (!HANDED_OUT.add(port)) {
                        continue;
                    }
                    return port;
                } catch (IOException taken) {
                    // UDP side in use: try another
                }
            }
        }
        throw new IOException("no port free for TCP and UDP");
    }

    private static void assertFree(int port) throws IOException {
        try (ServerSocket tcp = new ServerSocket()) {
            tcp.setReuseAddress(true);
            tcp.bind(new InetSocketAddress(LOOPBACK, port));
        }
        try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(LOOPBACK, port))) {
            assertThat(udp.getLocalPort()).isEqualTo(port);
        }
    }

    @Test
    void aListenerThatCannotBindLeavesNothingBound() throws Exception {
        int first = freePort();
        int admin = freePort();
        try (ServerSocket taken = new ServerSocket(0, 1, LOOPBACK)) {
            var config = RelayHarness.yaml(CONFIG).with("FIRST", first).with("SECOND", taken.getLocalPort())
                    .with("ADMIN", admin).config();
            assertThatThrownBy(() -> RelayServer.start(config)).isInstanceOf(StartException.class)
                    .hasMessageContaining("listener second: cannot bind 127.0.0.1:" + taken.getLocalPort());
        }
        assertFree(first);
        assertFree(admin);
    }

    @Test
    void theAdminListenerThatCannotBindLeavesNothingBound() throws Exception {
        int first = freePort();
        int second = freePort();
        try (ServerSocket taken = new ServerSocket(0, 1, LOOPBACK)) {
            var config = RelayHarness.yaml(CONFIG).with("FIRST", first).with("SECOND", second)
                    .with("ADMIN", taken.getLocalPort()).config();
            assertThatThrownBy(() -> RelayServer.start(config)).isInstanceOf(StartException.class)
                    .hasMessageContaining("admin: cannot bind");
        }
        assertFree(first);
        assertFree(second);
    }

    @Test
    void anHttp3PortInUseLeavesTheTcpListenersFree() throws Exception {
        int first = freePort();
        int second = freePort();
        int admin = freePort();
        try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(LOOPBACK, first))) {
            var config = RelayHarness.yaml(CONFIG).with("FIRST", first).with("SECOND", second)
                    .with("ADMIN", admin).config();
            assertThatThrownBy(() -> RelayServer.start(config)).isInstanceOf(StartException.class)
                    .hasMessageContaining("listener first: cannot bind udp " + first);
        }
        assertFree(first);
        assertFree(second);
        assertFree(admin);
    }

    @Test
    void onceStartedEveryListenerAccepts() throws Exception {
        int first = freePort();
        int second = freePort();
        int admin = freePort();
        var config = RelayHarness.yaml(CONFIG).with("FIRST", first).with("SECOND", second).with("ADMIN", admin)
                .config();
        try (RelayServer server = RelayServer.start(config)) {
            var client = java.net.http.HttpClient.newHttpClient();
            var plain = client.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + second + "/")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(plain.statusCode()).isEqualTo(200);
            var ready = client.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + admin + "/readyz")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(200);
            var h3 = new io.h3relay.testing.Http3TestClient(RelayHarness.certs().caCert());
            var res = h3.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("https://localhost:" + first + "/")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isEqualTo(200);
            h3.close();
        }
    }
}
