package io.h3relay.it;

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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An endpoint that answers with something that is not HTTP: every protocol gets 502
 * {@code upstream_bad_response} with the JSON envelope, and the broken connection is not reused.
 */
class BadUpstreamTest {
    static ServerSocket garbage;
    static Thread acceptor;
    static RelayHarness relay;

    @BeforeAll
    static void start() throws IOException {
        garbage = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(() -> {
            while (!garbage.isClosed()) {
                try (Socket s = garbage.accept()) {
                    InputStream in = s.getInputStream();
                    byte[] buf = new byte[8192];
                    in.read(buf); // the request head (enough for a GET)
                    OutputStream out = s.getOutputStream();
                    out.write("HTTP/1.1 2OO OK\r\nthis is not a header line\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException ignored) {
                    // closed at the end of the test
                }
            }
        }, "garbage-endpoint");
        acceptor.setDaemon(true);
        acceptor.start();
        relay = RelayHarness.singleCluster("127.0.0.1:" + garbage.getLocalPort(), "{}");
    }

    @AfterAll
    static void stop() throws IOException {
        relay.close();
        garbage.close();
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void garbageFromTheEndpointIs502(Proto proto) throws Exception {
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/x")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isEqualTo(502);
            assertThat(res.headers().firstValue("content-type")).hasValue("application/json");
            assertThat(res.body()).contains("\"code\":\"upstream_bad_response\"", "\"status\":502");
        }
    }
}
