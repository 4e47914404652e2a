package io.h3relay.it;

import org.junit.jupiter.api.parallel.Isolated;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.h3relay.testing.TestEndpoint;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client that resets its TCP connection (RST, as {@code curl --max-time} does to an abandoned download) is
 * not a proxy failure: h3relay logs nothing at WARN or ERROR for it. Before, an h2 connection's reset was a
 * WARN with a stack trace from {@code Http2ConnectionErrors}, and a reset during the TLS handshake two (Netty's
 * ALPN handler, then the pipeline's tail); seen in {@code bench/soak.sh}'s 30-minute run.
 */
@Isolated
class ClientResetLogTest {
    private static TestEndpoint endpoint;
    private static RelayHarness relay;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start("reset-log");
        relay = RelayHarness.singleCluster(endpoint.address(), "{}");
    }

    @AfterAll
    static void stop() {
        relay.close();
        endpoint.close();
    }

    @Test
    void resetDuringTheTlsHandshakeLogsNoWarning() throws Exception {
        try (ProxyLog log = ProxyLog.install()) {
            Socket s = new Socket(InetAddress.getLoopbackAddress(), relay.tlsPort());
            // The start of a TLS record (handshake, TLS 1.0 record version, 512 bytes), then a reset.
            s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00});
            s.getOutputStream().flush();
            Thread.sleep(200); // (the proxy reads the partial record before the reset arrives)
            s.setSoLinger(true, 0);
            s.close();
            assertQuiet(log);
        }
    }

    @Test
    void resetOfAnH2ConnectionLogsNoWarning() throws Exception {
        try (ProxyLog log = ProxyLog.install()) {
            Socket raw = new Socket(InetAddress.getLoopbackAddress(), relay.tlsPort());
            SSLSocket s = (SSLSocket) RelayHarness.certs().trustingSslContext().getSocketFactory()
                    .createSocket(raw, "localhost", relay.tlsPort(), true);
            var params = s.getSSLParameters();
            params.setApplicationProtocols(new String[] {"h2"});
            s.setSSLParameters(params);
            s.startHandshake();
            assertThat(s.getApplicationProtocol()).isEqualTo("h2");
            OutputStream out = s.getOutputStream();
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // empty SETTINGS
            out.flush();
            s.getInputStream().read(); // the server's SETTINGS: the h2 pipeline is up
            Thread.sleep(200);
            raw.setSoLinger(true, 0);
            raw.close(); // a reset under the TLS layer, no close_notify
            assertQuiet(log);
        }
    }

    /** Nothing at WARN/ERROR for a while after the reset (the proxy reads it within that time). */
    private static void assertQuiet(ProxyLog log) {
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(log.lines(5)).as("h3relay's WARN/ERROR lines").isEmpty());
    }
}
