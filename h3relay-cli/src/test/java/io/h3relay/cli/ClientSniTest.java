package io.h3relay.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.h3relay.cli.ClientFixture.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code h3relay request} sends SNI for every host name that is not an IP literal, also one without a
 * dot ({@code localhost}), over TCP and QUIC; an IP literal sends none (RFC 6066).
 */
class ClientSniTest {
    static SniRecorder server;

    @BeforeAll
    static void start() throws Exception {
        server = new SniRecorder(ClientFixture.CERTS);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @ParameterizedTest
    @CsvSource({"--http1.1, localhost, sni=localhost", "--http1.1, 127.0.0.1, sni=none",
            "--http3, localhost, sni=localhost", "--http3, 127.0.0.1, sni=none"})
    void sendsSniForSingleLabelNames(String flag, String host, String expected) {
        server.reset();
        int port = flag.equals("--http3") ? server.udpPort() : server.tcpPort();
        ClientFixture.Run r = run("request", flag, "--cacert", ClientFixture.CERTS.caCertPath().toString(),
                "--max-time", "10", "https://" + host + ":" + port + "/");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(expected);
    }
}
