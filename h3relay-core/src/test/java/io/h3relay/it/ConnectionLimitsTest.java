package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.TestEndpoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Connection-level limits: idle connections close after {@code keep_alive_timeout} (h1 and h2),
 * {@code max_connections} turns extra connections away, and h2 advertises {@code max_concurrent_streams}.
 */
class ConnectionLimitsTest {
    private static final String LIMITS = "{ keep_alive_timeout: 500ms, max_concurrent_streams: 7 }";

    private static TestEndpoint endpoint;
    private static RelayHarness relay;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start();
        relay = RelayHarness.yaml(LimitsTest.CONFIG).with("LIMITS", LIMITS).with("EP1", endpoint.address()).start();
    }

    @AfterAll
    static void stop() {
        relay.close();
        endpoint.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "tls"})
    void idleH1ConnectionClosesAfterKeepAliveTimeout(String listener) {
        try (RawHttp1 c = RawHttp1.open(relay, listener)) {
            c.send("GET /headers HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertThat(c.readResponse().status()).isEqualTo(200);

            assertThat(c.closedWithin(Duration.ofSeconds(5))).as("closed after keep_alive_timeout").isTrue();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "tls"})
    void silentH1ConnectionClosesAfterKeepAliveTimeout(String listener) {
        try (RawHttp1 c = RawHttp1.open(relay, listener)) {
            assertThat(c.closedWithin(Duration.ofSeconds(5))).isTrue();
        }
    }

    /** h2 (TLS, ALPN h2) and h2c (prior knowledge): preface and SETTINGS, then silence → the proxy closes. */
    @ParameterizedTest
    @ValueSource(strings = {"plain", "tls"})
    void idleH2ConnectionClosesAfterKeepAliveTimeout(String listener) throws IOException {
        try (Socket s = "tls".equals(listener) ? h2Tls() : new Socket("127.0.0.1", relay.plainPort())) {
            OutputStream out = s.getOutputStream();
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // empty SETTINGS
            out.flush();

            assertThat(readsToEof(s, Duration.ofSeconds(5))).as("closed after keep_alive_timeout").isTrue();
        }
    }

    @Test
    void connectionsOverMaxConnectionsAreClosedAtOnce() {
        RelayHarness limited = RelayHarness.yaml(LimitsTest.CONFIG).with("LIMITS", "{ max_connections: 2 }")
                .with("EP1", endpoint.address()).start();
        List<RawHttp1> open = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                RawHttp1 c = RawHttp1.plain(limited);
                open.add(c);
                c.send("GET /headers HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertThat(c.readResponse().status()).isEqualTo(200);
            }
            try (RawHttp1 third = RawHttp1.plain(limited)) {
                third.send("GET /headers HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertThat(third.closedWithin(Duration.ofSeconds(5))).as("third connection closed").isTrue();
            }
            // The first two are unaffected.
            open.get(0).send("GET /headers HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertThat(open.get(0).readResponse().status()).isEqualTo(200);
        } finally {
            open.forEach(RawHttp1::close);
            limited.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "tls"})
    void h2AdvertisesMaxConcurrentStreams(String listener) {
        String url = "tls".equals(listener) ? relay.tlsUrl("/headers") : relay.plainUrl("/headers");
        ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(20),
                ExternalTool.require("nghttp").toString(), "-v", url);

        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.stdoutString()).contains("SETTINGS_MAX_CONCURRENT_STREAMS(0x03):7");
    }

    private static SSLSocket h2Tls() throws IOException {
        SSLSocket s = (SSLSocket) RelayHarness.certs().trustingSslContext().getSocketFactory()
                .createSocket("localhost", relay.tlsPort());
        SSLParameters params = s.getSSLParameters();
        params.setApplicationProtocols(new String[] {"h2"});
        s.setSSLParameters(params);
        s.startHandshake();
        assertThat(s.getApplicationProtocol()).isEqualTo("h2");
        return s;
    }

    /** Reads and discards frames until EOF (true) or until {@code within} passes (false). */
    private static boolean readsToEof(Socket s, Duration within) throws IOException {
        long deadline = System.nanoTime() + within.toNanos();
        InputStream in = s.getInputStream();
        byte[] buf = new byte[4096];
        try {
            while (System.nanoTime() < deadline) {
                s.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                if (in.read(buf) < 0) {
                    return true;
                }
            }
            return false;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }
}
