package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.h3relay.testing.BodyPattern;
import io.h3relay.testing.Http3TestEndpoint;
import io.h3relay.testing.PythonWebSockets;
import io.h3relay.testing.TestEndpoint;
import io.h3relay.transport.Transport;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same traffic on each socket transport ({@code -Dh3relay.transport}: io_uring, epoll, NIO). The rest of the
 * suite runs on the default one (epoll here); this class keeps the others working:
 * h1, h2 and h3 downstream with a body each way to an HTTP/1.1 cluster (under io_uring an h3 request's upstream
 * connection is an epoll socket on the QUIC loop, an h1/h2 request's an io_uring one), the same to an HTTP/3
 * cluster (the QUIC upstream's UDP socket on the loop's transport), and a WebSocket over plaintext h1 (the
 * relay's byte tunnel; on epoll its sends go straight to the socket, {@code DirectSend}), each checked whole at
 * the other end.
 */
class TransportsTest {
    private static final int BODY = 300 * 1024;

    static TestEndpoint h1;
    static Http3TestEndpoint h3;
    static PythonWebSockets.Endpoint ws;

    @BeforeAll
    static void start() {
        h1 = TestEndpoint.start();
        h3 = Http3TestEndpoint.start(RelayHarness.certs());
        ws = PythonWebSockets.startEndpoint();
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {h1, h3, ws}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // best effort
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll", "nio"})
    void theSameTrafficOnEachTransport(String name) throws Exception {
        Assumptions.assumeTrue(!name.equals("io_uring") || IoUring.isAvailable(),
                () -> "io_uring is not available on this kernel: " + IoUring.unavailabilityCause());
        Assumptions.assumeTrue(!name.equals("epoll") || Epoll.isAvailable(),
                () -> "epoll is not available here: " + Epoll.unavailabilityCause());
        try (RelayHarness relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: ws, match: { path_prefix: /ws/ }, cluster: ws }
                  - { name: h3, match: { path_prefix: /h3/ }, cluster: h3, rewrite: { strip_prefix: /h3 } }
                  - { name: h1, match: { path_prefix: / }, cluster: h1 }
                clusters:
                  - { name: h1, endpoints: [ { address: "@H1@" } ] }
                  - { name: ws, endpoints: [ { address: "@WS@" } ] }
                  - name: h3
                    protocol: http3
                    protocol_policy: exact
                    endpoints: [ { address: "localhost:@H3@" } ]
                    tls: { verify: true, ca: "@CA@" }
                """).with("LIMITS", "{}").with("H1", h1.address()).with("WS", ws.address())
                .with("H3", h3.port()).with("CA", RelayHarness.certs().caCertPath())
                .transport(Transport.choose(name)).start()) {
            assertThat(relay.server().transport().name()).isEqualTo(name);
            // Under io_uring the HTTP/3 listener's UDP sockets, and the upstream connections of its requests, run
            // on epoll loops of their own: the h3 requests below reach both clusters through them.
            assertThat(relay.server().transport().quic().name())
                    .isEqualTo(name.equals("io_uring") && Epoll.isAvailable() ? "epoll" : name);
            byte[] body = BodyPattern.bytes(BODY);
            for (Proto proto : Proto.values()) {
                HttpResponse<String> sink = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/sink"))
                        .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(sink.statusCode()).as("%s %s /sink", name, proto).isEqualTo(200);
                assertThat(sink.body()).as("%s %s /sink", name, proto)
                        .contains("\"bytes\":" + BODY).contains(TestEndpoint.expectedSha256(BODY));
                HttpResponse<byte[]> bytes = relay.client(proto).send(HttpRequest.newBuilder(
                        relay.uri(proto, "/bytes?n=" + BODY)).timeout(Duration.ofSeconds(20)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(bytes.statusCode()).as("%s %s /bytes", name, proto).isEqualTo(200);
                assertThat(bytes.body()).as("%s %s /bytes", name, proto).isEqualTo(body);
                HttpResponse<byte[]> echo = relay.client(proto).send(HttpRequest.newBuilder(
                        relay.uri(proto, "/h3/echo")).timeout(Duration.ofSeconds(20))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(echo.statusCode()).as("%s %s to the h3 cluster", name, proto).isEqualTo(200);
                assertThat(echo.body()).as("%s %s to the h3 cluster", name, proto).isEqualTo(body);
            }
            webSocketEchoes(relay, name);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(MetricsScrape.of(relay)
                    .value("h3relay_downstream_requests_active", Map.of())).as("active requests").isZero());
        }
    }

    /** 100 echoes of growing messages over plaintext h1 (up to 200 KiB: partial sends), in order and whole. */
    private static void webSocketEchoes(RelayHarness relay, String name) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            WebSocketTest.Recorder rec = new WebSocketTest.Recorder();
            WebSocket socket = http.newWebSocketBuilder().buildAsync(
                    URI.create("ws://localhost:" + relay.plainPort() + "/ws/" + name), rec).get(10, TimeUnit.SECONDS);
            for (int i = 0; i < 100; i++) {
                String text = i + ":" + "x".repeat(i * 2048);
                socket.sendText(text, true).get(10, TimeUnit.SECONDS);
                assertThat(rec.texts.poll(10, TimeUnit.SECONDS)).as("%s echo %d", name, i).isEqualTo(text);
            }
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(10, TimeUnit.SECONDS);
            assertThat(rec.closed.get(10, TimeUnit.SECONDS)).startsWith("1000");
        }
    }
}
