package io.h3relay.cli;

import io.h3relay.testing.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.h3relay.cli.ClientFixture.run;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code h3relay request} against a test endpoint through h3relay, over h1, h2 and h3; and its exit codes. */
class RequestCommandTest {
    static ClientFixture fx;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        fx = new ClientFixture();
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    @ParameterizedTest
    @CsvSource({"--http1.1, HTTP/1.1, 1.1", "--http2, HTTP/2, 2", "--http3, HTTP/3, 3"})
    void getsThroughTheProxyOnEachProtocol(String flag, String statusLine, String via) throws Exception {
        Path body = dir.resolve("body");
        ClientFixture.Run r = run("request", flag, "--cacert", fx.ca(), "-i", "-v", "-H", "X-Try: " + flag,
                "-o", body.toString(), fx.url("/hello?x=1"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(Files.readString(body)).startsWith(statusLine + " 200\r\n").endsWith("endpoint cli");
        // -v: protocol, TLS version and cipher, the exchange and the timings.
        assertThat(r.err()).contains("* connected to 127.0.0.1:", ": " + statusLine + ", TLSv1.3, TLS_")
                .contains("> GET /hello?x=1 " + statusLine, "> X-Try: " + flag, "< " + statusLine + " 200")
                .containsPattern("\\* timings since the start: (connect [0-9.]+ ms, )?(TLS|QUIC) handshake [0-9.]+ ms, first byte [0-9.]+ ms, total [0-9.]+ ms");
        RecordedRequest seen = fx.endpoint.lastRequest();
        assertThat(seen.uri()).isEqualTo("/hello?x=1");
        assertThat(seen.header("x-try")).hasValue(flag);
        assertThat(seen.header("via")).hasValueSatisfying(v -> assertThat(v).startsWith(via + " "));
    }

    @ParameterizedTest
    @CsvSource({"--http1.1", "--http2", "--http3"})
    void postsAFileBody(String flag) throws Exception {
        Path upload = dir.resolve("upload.bin");
        byte[] bytes = new byte[300_000];
        new java.util.Random(7).nextBytes(bytes);
        Files.write(upload, bytes);
        ClientFixture.Run r = run("request", flag, "--cacert", fx.ca(), "--data", "@" + upload, fx.url("/sink"));
        assertThat(r.exit()).as(r.err()).isZero();
        String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        assertThat(r.out()).contains("\"bytes\":300000", sha);
        assertThat(fx.endpoint.lastRequest().method()).isEqualTo("POST");
    }

    /**
     * A request head larger than what a new QUIC connection may send at once (its congestion window):
     * the rest of the HEADERS frame must follow as the window opens, before the stream's FIN.
     */
    @ParameterizedTest
    @CsvSource({"--http1.1, 18000", "--http2, 18000", "--http3, 18000", "--http3, 30000"})
    void sendsLargeRequestHeaders(String flag, int size) {
        String big = "a".repeat(size);
        ClientFixture.Run r = run("request", flag, "--cacert", fx.ca(), "--max-time", "10", "-H", "X-Big: " + big,
                fx.url("/big-" + size));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("endpoint cli");
        RecordedRequest seen = fx.endpoint.lastRequest();
        assertThat(seen.path()).isEqualTo("/big-" + size);
        assertThat(seen.header("x-big")).hasValue(big);
    }

    /** Over the server's SETTINGS_MAX_FIELD_SECTION_SIZE: a clear error at once, not a closed connection or a wait. */
    @Test
    void aHeadLargerThanThePeerTakesFailsAtOnce() {
        // The proxy advertises SETTINGS_MAX_FIELD_SECTION_SIZE (2 x 32 KiB + the request-line limit).
        ClientFixture.Run r = run("request", "--http3", "--cacert", fx.ca(), "--max-time", "10",
                "-H", "X-Big: " + "a".repeat(200_000), fx.url("/too-big"));
        assertThat(r.exit()).as(r.err()).isEqualTo(ExitCodes.PROTOCOL);
        assertThat(r.err()).contains("the request head is 200", "SETTINGS_MAX_FIELD_SECTION_SIZE");
        assertThat(fx.endpoint.lastRequest() == null ? "" : fx.endpoint.lastRequest().path()).isNotEqualTo("/too-big");
    }

    /** A UDP port with nobody on it: a QUIC handshake there is never answered. */
    static int silentUdpPort() throws java.net.SocketException {
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void http3ExitCodes() throws Exception {
        ClientFixture.Run plain = run("request", "--http3", "http://127.0.0.1:1/");
        assertThat(plain.exit()).as(plain.err()).isEqualTo(ExitCodes.USAGE);
        assertThat(plain.err()).contains("--http3 needs an https URL");
        // Nobody answers: "cannot connect" after the 10 s connect timeout, not "--max-time reached".
        int port = silentUdpPort();
        ClientFixture.Run silent = run("request", "-k", "--http3", "https://127.0.0.1:" + port + "/");
        assertThat(silent.exit()).as(silent.err()).isEqualTo(ExitCodes.CONNECT);
        assertThat(silent.err()).contains("no connection to https://127.0.0.1:" + port);
        // With --max-time given, its end is what stops the wait.
        ClientFixture.Run limited = run("request", "-k", "--http3", "--max-time", "0.5", "https://127.0.0.1:" + port + "/");
        assertThat(limited.exit()).as(limited.err()).isEqualTo(ExitCodes.TIMEOUT);
        assertThat(limited.err()).contains("--max-time reached while connecting");
    }

    @Test
    void altSvcMovesTheNextRequestToHttp3() {
        ClientFixture.Run r = run("request", "--alt-svc", "-v", "--cacert", fx.ca(), fx.url("/first"), fx.url("/second"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("endpoint cliendpoint cli");
        assertThat(r.err()).contains("> GET /first HTTP/2", "* alt-svc: h3 on port", "> GET /second HTTP/3");
        assertThat(fx.endpoint.lastRequest().path()).isEqualTo("/second");
        assertThat(fx.endpoint.lastRequest().header("via")).hasValueSatisfying(v -> assertThat(v).startsWith("3 "));
    }

    @Test
    void exitCodesSayWhatWentWrong() throws Exception {
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        assertThat(run("request", "http://127.0.0.1:" + closedPort + "/").exit()).isEqualTo(ExitCodes.CONNECT);
        ClientFixture.Run untrusted = run("request", fx.url("/"));
        assertThat(untrusted.exit()).isEqualTo(ExitCodes.TLS);
        assertThat(untrusted.err()).contains("certification path");
        assertThat(run("request", "--http3", fx.url("/")).exit()).isEqualTo(ExitCodes.TLS);
        // The endpoint resets the connection: through the proxy a 502 (a whole response), directly a reset.
        assertThat(run("request", "-k", fx.url("/reset")).exit()).isZero();
        assertThat(run("request", fx.endpoint.baseUrl() + "/reset").exit()).isEqualTo(ExitCodes.PROTOCOL);
        ClientFixture.Run slow = run("request", "-k", "--max-time", "0.5", fx.url("/delay?ms=3000"));
        assertThat(slow.exit()).isEqualTo(ExitCodes.TIMEOUT);
        assertThat(slow.err()).contains("--max-time");
        assertThat(run("request", "-k", "-o", dir.resolve("no/such/dir/f").toString(), fx.url("/")).exit())
                .isEqualTo(ExitCodes.FILE);
        assertThat(run("request", "-k", "--data", "@" + dir.resolve("missing"), fx.url("/")).exit()).isEqualTo(ExitCodes.FILE);
        assertThat(run("request", "--http2", "--http3", fx.url("/")).exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(run("request", "ftp://x/").exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(run("request", "-k", "-H", "no colon", fx.url("/")).exit()).isEqualTo(ExitCodes.USAGE);
    }
}
