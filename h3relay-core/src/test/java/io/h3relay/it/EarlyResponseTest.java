package io.h3relay.it;

import io.h3relay.testing.BodyPattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An endpoint that answers a large upload without reading its body and then closes, as
 * {@code python3 -m http.server} does with its 501 to a POST: the close with unread bytes makes the
 * endpoint's kernel send RST, so the proxy's next write of the body fails (EPIPE, ECONNRESET) while the
 * answer still waits in its receive buffer. The client must get that answer, on every protocol (as with
 * nginx); the rest of the request body is discarded.
 */
class EarlyResponseTest {
    /** Far more than the socket buffers between the proxy and the endpoint hold: the upload stalls. */
    static final long SIZE = 16L * 1024 * 1024;
    static final String BODY = "<html><body>501 Unsupported method ('POST')</body></html>\n";

    static ServerSocket endpoint;
    static final AtomicInteger answered = new AtomicInteger();
    static RelayHarness relay;

    @BeforeAll
    static void start() throws IOException {
        endpoint = new ServerSocket();
        endpoint.setReceiveBufferSize(16 * 1024); // inherited by accepted sockets: the upload stalls sooner
        endpoint.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = new Thread(EarlyResponseTest::serve, "early-501-endpoint");
        acceptor.setDaemon(true);
        acceptor.start();
        relay = RelayHarness.singleCluster("127.0.0.1:" + endpoint.getLocalPort(), "{ max_request_body_size: 0 }");
    }

    @AfterAll
    static void stop() throws IOException {
        relay.close();
        endpoint.close();
    }

    /** Reads the request head only, lets the proxy's writes pile up, answers 501, then closes. */
    private static void serve() {
        while (!endpoint.isClosed()) {
            try (Socket s = endpoint.accept()) {
                readHead(s.getInputStream());
                Thread.sleep(300); // the proxy's send buffer fills: its next write is pending when we close
                OutputStream out = s.getOutputStream();
                answered.incrementAndGet(); // before the write: the client may see the answer before the next line
                out.write(("HTTP/1.1 501 Unsupported method ('POST')\r\nContent-Type: text/html\r\n"
                        + "Content-Length: " + BODY.length() + "\r\nConnection: close\r\n\r\n" + BODY)
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                s.shutdownOutput(); // then close with the body unread: RST, like python's socketserver
            } catch (IOException | InterruptedException ignored) {
                // closed at the end of the test
            }
        }
    }

    private static void readHead(InputStream in) throws IOException {
        int matched = 0;
        byte[] end = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        while (matched < end.length) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed before the end of the head");
            }
            matched = b == end[matched] ? matched + 1 : (b == end[0] ? 1 : 0);
        }
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void answerBeforeTheBodyReachesTheClientAfterTheEndpointCloses(Proto proto) throws Exception {
        int before = answered.get();
        HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/upload"))
                        .timeout(Duration.ofSeconds(20))
                        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> BodyPattern.inputStream(SIZE))).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(answered.get()).as("the endpoint answered").isGreaterThan(before);
        assertThat(res.statusCode()).as(res.body()).isEqualTo(501);
        assertThat(res.body()).isEqualTo(BODY);
        assertThat(res.headers().firstValue("via")).hasValueSatisfying(v -> assertThat(v).startsWith("1.1 "));
    }
}
