package io.h3relay.cli;

import io.h3relay.testing.Caddy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;

import static io.h3relay.cli.ClientFixture.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code h3relay request} and {@code bench} against Caddy (Go TLS, quic-go), a server that picks its
 * certificate by SNI and refuses a handshake without one: the site is {@code https://localhost:PORT}.
 */
class CaddyInteropTest {
    @TempDir
    static Path dir;
    static Caddy caddy;

    @BeforeAll
    static void start() {
        // Caddy's own CA issues the site's certificate, chosen by SNI: no SNI, no certificate, no handshake.
        caddy = Caddy.start(dir, "localhost", """
                tls internal
                handle /sni {
                    respond "{http.request.tls.server_name} {http.request.proto}"
                }
                handle /big {
                    respond "{http.request.header.X-Big}"
                }
                """);
    }

    @AfterAll
    static void stop() {
        if (caddy != null) {
            caddy.close();
        }
    }

    private static String url(String path) {
        return "https://localhost:" + caddy.port() + path;
    }

    @ParameterizedTest
    @CsvSource({"--http1.1, HTTP/1.1", "--http2, HTTP/2.0", "--http3, HTTP/3.0"})
    void sendsSniForLocalhost(String flag, String proto) {
        ClientFixture.Run r = run("request", flag, "-k",
                "--max-time", "15", url("/sni"));
        // Without SNI caddy finds no certificate and refuses the handshake, so a response at all shows it
        // (the cause of the QuicClosedChannelException of issue 12).
        assertThat(r.exit()).as(r.err() + "\n" + caddy.log()).isZero();
        // Caddy 2.6.2 fills {http.request.tls.server_name} on TCP only; over HTTP/3 it stays empty.
        assertThat(r.out()).isEqualTo(proto.equals("HTTP/3.0") ? " HTTP/3.0" : "localhost " + proto);
    }

    @Test
    void benchOverHttp3() {
        ClientFixture.Run r = run("bench", "--http3", "-k",
                "-n", "20", "-c", "2", "-m", "2", "--json", url("/sni"));
        assertThat(r.exit()).as(r.err() + r.out() + "\n" + caddy.log()).isZero();
        assertThat(r.json("ok")).isEqualTo(20);
    }

    /** A head larger than a new QUIC connection may send at once reaches an independent HTTP/3 server whole. */
    @Test
    void largeHeaderOverHttp3() {
        String big = "b".repeat(40_000);
        ClientFixture.Run r = run("request", "--http3", "-k",
                "--max-time", "15", "-H", "X-Big: " + big, url("/big"));
        assertThat(r.exit()).as(r.err() + "\n" + caddy.log()).isZero();
        assertThat(r.out()).isEqualTo(big);
    }
}
