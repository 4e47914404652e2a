package io.h3relay.it;

import io.h3relay.testing.BodyPattern;
import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * HTTP/3 clients we did not write, over real UDP on loopback: ngtcp2's {@code gtlsclient} (nghttp3 on
 * top) and headless Chromium. Under CI=true a missing client fails the test (see {@link ExternalTool}).
 *
 * <p>gtlsclient has no CA option and does not verify the server certificate, so it tests the QUIC and
 * HTTP/3 layers only; Chromium does verify, and accepts the test certificate through its SPKI pin.
 */
class Http3InteropTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int TEN_MIB = 10 * 1024 * 1024;

    /**
     * Served by the proxy itself (a respond route). Its image comes from the endpoint through the
     * catch-all route and holds the load event back until it arrived (not an image: that only fires
     * onerror). After load, the body says how the navigation and the image travelled, for --dump-dom.
     */
    private static final String PAGE = """
            <!doctype html><html><body><img src="/headers?from=chromium"><script>
            addEventListener('load', () => {
              const nav = performance.getEntriesByType('navigation')[0];
              const img = performance.getEntriesByType('resource').find(e => e.name.includes('/headers'));
              document.body.textContent = 'nav=' + nav.nextHopProtocol
                  + ' img=' + img.responseStatus + '/' + img.nextHopProtocol;
            });
            </script></body></html>
            """;

    /**
     * Streams 2 MiB of {@link BodyPattern} to /sink as a ReadableStream: no Content-Length, so the proxy
     * forwards it chunked. Chromium streams request bodies only over h2/h3.
     */
    private static final String UPLOAD_PAGE = """
            <!doctype html><html><body>uploading</body><script>
            addEventListener('load', async () => {
              const n = 2097152;
              let off = 0;
              const body = new ReadableStream({ pull(c) {
                if (off >= n) { c.close(); return; }
                const a = new Uint8Array(Math.min(16384, n - off));
                for (let i = 0; i < a.length; i++) a[i] = ((off + i) * 31 + 7) & 255;
                off += a.length;
                c.enqueue(a);
              }});
              const res = await fetch('/sink', { method: 'POST', body, duplex: 'half' });
              document.body.textContent = 'upload=' + res.status + ' ' + await res.text();
            });
            </script></html>
            """;

    /**
     * Fetches a slow 100 kB response (100 chunks 100 ms apart), reads its first chunk and aborts the fetch:
     * Chromium cancels that request stream and keeps the connection. The script after it, 4 s of slow body
     * from a second endpoint, holds the parser and the load event and so Chromium and its connection (an
     * image would not: Chromium drops a body that is no image). The aborted fetch goes through cluster a,
     * which nothing else uses.
     */
    private static final String ABORT_PAGE = """
            <!doctype html><html><body>aborting<script>
            (async () => {
              const ac = new AbortController();
              const res = await fetch('/abort/slow?chunks=100&interval=100&size=1000&from=abort', { signal: ac.signal });
              const first = await res.body.getReader().read();
              ac.abort();
              document.body.append(' aborted after ' + first.value.length + ' bytes');
            })();
            </script><script src="/hold/slow?chunks=40&interval=100&size=10&from=hold"></script></body></html>
            """;

    static TestEndpoint endpoint;
    static RelayHarness relay;
    static TestEndpoint holdEndpoint;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start("interop");
        holdEndpoint = TestEndpoint.start("hold");
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - name: page
                    match: { path: /h3-page }
                    respond:
                      status: 200
                      headers: { content-type: text/html }
                      body: |
                @PAGE@
                  - name: upload-page
                    match: { path: /h3-upload }
                    respond:
                      status: 200
                      headers: { content-type: text/html }
                      body: |
                @UPLOAD@
                  - name: abort-page
                    match: { path: /h3-abort }
                    respond:
                      status: 200
                      headers: { content-type: text/html }
                      body: |
                @ABORT@
                  - { name: abort, match: { path_prefix: /abort/ }, rewrite: { strip_prefix: /abort }, cluster: a }
                  - { name: hold, match: { path_prefix: /hold/ }, rewrite: { strip_prefix: /hold }, cluster: h }
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                  - { name: a, endpoints: [ { address: "@EP@" } ] }
                  - { name: h, endpoints: [ { address: "@HOLD@" } ] }
                """).with("LIMITS", "{}").with("EP", endpoint.address()).with("HOLD", holdEndpoint.address())
                .with("ABORT", ABORT_PAGE.indent(8).stripTrailing())
                .with("PAGE", PAGE.indent(8).stripTrailing())
                .with("UPLOAD", UPLOAD_PAGE.indent(8).stripTrailing()).start();
    }

    @AfterAll
    static void stop() {
        relay.close();
        endpoint.close();
        holdEndpoint.close();
    }

    @Test
    void gtlsclientGetsThroughTheProxy() throws IOException {
        Gtls r = gtls(List.of(), "/headers");

        assertThat(r.exitCode).as(r.summary()).isZero();
        assertThat(r.log).contains("[:status: 200]", "[x-endpoint: interop]");
        var seen = endpoint.lastRequest();
        assertThat(seen.header("via")).hasValue("3 h3relay");
        assertThat(seen.header("user-agent").orElse("")).contains("ngtcp2");
        assertThat(seen.header("x-forwarded-proto")).hasValue("https");
        // Netty's HTTP/3 adapter adds x-http3-scheme / x-http3-stream-id; they must stay on our side.
        assertThat(seen.headers()).noneMatch(h -> h.getKey().startsWith("x-http3-"));
        assertThat(Files.readString(r.dir.resolve("headers"))).contains("\"via\",\"3 h3relay\"");
    }

    /**
     * The endpoint answers /trailers with a chunked body and two trailer fields; over h3 they must arrive
     * as a second header block after the body, not be dropped. nghttp3 reports that block apart from the
     * response head in gtlsclient's log.
     */
    @Test
    void gtlsclientReceivesResponseTrailers() throws IOException {
        Gtls r = gtls(List.of(), "/trailers");

        assertThat(r.exitCode).as(r.summary()).isZero();
        assertThat(Files.readString(r.dir.resolve("trailers"))).isEqualTo("body with trailers\n");
        assertThat(r.log).contains("[:status: 200]");
        // The fields must be in the trailer block ("trailers started" .. "trailers ended"), not the head.
        int start = r.log.indexOf("trailers started");
        int end = r.log.indexOf("trailers ended");
        assertThat(start).as(r.log).isNotNegative().isLessThan(end);
        assertThat(r.log.substring(start, end)).contains("[x-trailer-a: 1]", "[x-trailer-b: two]");
        assertThat(r.log.substring(0, start)).doesNotContain("x-trailer-");
    }

    @Test
    void hundredConcurrentStreamsOnOneConnectionAllComplete() throws IOException {
        int before = endpoint.requestCount();
        // Distinct URIs so that each stream downloads to its own file (gtlsclient names files by path).
        String[] paths = new String[100];
        for (int i = 0; i < paths.length; i++) {
            paths[i] = "/bytes?n=100000&i=" + i;
        }
        Gtls r = gtls(List.of("-n", "100"), paths);

        assertThat(r.exitCode).as(r.summary()).isZero();
        assertThat(endpoint.requestCount() - before).isEqualTo(100);
        for (int i = 0; i < paths.length; i++) {
            assertThat(sha256(r.dir.resolve("bytes?n=100000&i=" + i))).as("stream %d", i)
                    .isEqualTo(BodyPattern.sha256Hex(100_000));
        }
    }

    @Test
    void tenMebibytesArriveIntact() throws IOException {
        Gtls r = gtls(List.of(), "/bytes?n=" + TEN_MIB);

        assertThat(r.exitCode).as(r.summary()).isZero();
        assertThat(sha256(r.dir.resolve("bytes?n=" + TEN_MIB))).as(r.summary())
                .isEqualTo(BodyPattern.sha256Hex(TEN_MIB));
    }

    /**
     * 5% loss each way: retransmission, loss recovery and flow-control updates under loss. Long lossy
     * transfers can hit quiche's spurious FLOW_CONTROL_ERROR (netty#17377); no retry here, so if that
     * shows up it fails loudly with the CONNECTION_CLOSE line in the message.
     */
    @Test
    void tenMebibytesArriveIntactUnderFivePercentLossEachWay() throws IOException {
        Gtls r = gtls(List.of("--tx-loss", "0.05", "--rx-loss", "0.05"), "/bytes?n=" + TEN_MIB);

        assertThat(r.exitCode).as(r.summary()).isZero();
        assertThat(sha256(r.dir.resolve("bytes?n=" + TEN_MIB))).as(r.summary())
                .isEqualTo(BodyPattern.sha256Hex(TEN_MIB));
    }

    @Test
    void chromiumLoadsAPageAndItsImageOverHttp3() {
        ExternalTool.Result r = chromium("/h3-page");

        assertThat(r.stdoutString()).as(log(r)).contains("nav=h3 img=200/h3");
        // Not lastRequest(): Chromium may ask for /favicon.ico after the page.
        var seen = endpoint.requests().stream().filter(q -> q.uri().equals("/headers?from=chromium"))
                .findFirst().orElseThrow();
        assertThat(seen.header("via")).hasValue("3 h3relay");
        assertThat(seen.header("user-agent").orElse("")).contains("Chrome");
    }

    @Test
    void chromiumStreamsAnUploadOfUnknownLengthIntact() {
        ExternalTool.Result r = chromium("/h3-upload");

        assertThat(r.stdoutString()).as(log(r))
                .contains("upload=200 {\"bytes\":2097152,\"sha256\":\"" + BodyPattern.sha256Hex(2097152) + "\"}");
        var seen = endpoint.requests().stream().filter(q -> q.uri().equals("/sink")).reduce((a, b) -> b)
                .orElseThrow();
        assertThat(seen.header("transfer-encoding")).hasValue("chunked");
        assertThat(seen.header("via")).hasValue("3 h3relay");
    }

    /**
     * An independent client's cancel: Chromium aborts a fetch mid-response over h3 and keeps the connection.
     * The upstream connection of that attempt must close while Chromium is still connected (the 4 s script),
     * not 10 s later when the endpoint would have finished, nor when Chromium exits.
     */
    @Test
    void chromiumAbortingAFetchCancelsTheUpstreamAttempt() throws Exception {
        var cluster = relay.server().clusters().get("a");
        var pool = cluster.pool(cluster.endpoints().get(0));
        var run = CompletableFuture.supplyAsync(() -> chromium("/h3-abort"));

        await().atMost(Duration.ofSeconds(30)).until(() -> endpoint.requests().stream()
                .anyMatch(q -> q.uri().contains("from=abort")));
        // Cluster a served only that request: no connection left (not even an idle one) means it was closed.
        await().atMost(Duration.ofSeconds(3)).until(() -> pool.connectionCount() == 0 && !run.isDone());

        ExternalTool.Result r = run.get();
        assertThat(r.stdoutString()).as(log(r)).contains("aborted after 1000 bytes");
        assertThat(holdEndpoint.requests()).anyMatch(q -> q.uri().contains("from=hold"));
        assertThat(endpoint.requests()).filteredOn(q -> q.uri().contains("from=abort")).singleElement()
                .satisfies(q -> assertThat(q.header("via")).hasValue("3 h3relay"));
    }

    /** Headless Chromium on https://localhost:PORT{path}, forced onto QUIC; the DOM after load on stdout. */
    private ExternalTool.Result chromium(String path) {
        Path chromium = ExternalTool.require("chromium");
        int port = relay.tlsPort();
        ExternalTool.Result r = ExternalTool.run(TIMEOUT, chromium.toString(),
                "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + tmp.resolve("chromium-profile"),
                "--enable-quic", "--origin-to-force-quic-on=localhost:" + port,
                // Chromium resolves localhost to ::1 first and a forced-QUIC origin gets no fallback to
                // 127.0.0.1 (UDP send fails with ECONNREFUSED); the listener is on 127.0.0.1 only.
                "--host-resolver-rules=MAP localhost 127.0.0.1",
                "--ignore-certificate-errors-spki-list=" + RelayHarness.certs().spkiSha256Base64(),
                // Without a budget the DOM can be dumped before the load handler ran.
                "--virtual-time-budget=10000",
                "--dump-dom", "https://localhost:" + port + path);
        assertThat(r.exitCode()).as(log(r)).isZero();
        return r;
    }

    /** Chromium's stderr without the D-Bus complaints of a machine with no session bus. */
    private static String log(ExternalTool.Result r) {
        return r.stderr().lines().filter(l -> !l.contains("dbus")).collect(Collectors.joining("\n"));
    }

    /** What one gtlsclient run left: exit code, its debug log (stderr), and the download folder. */
    private record Gtls(int exitCode, String log, Path dir) {
        /** The lines that explain a failure: connection close, stream reset, errors; not the whole log. */
        String summary() {
            return "gtlsclient exit " + exitCode + "\n" + log.lines()
                    .filter(l -> l.contains("CONNECTION_CLOSE") || l.contains("RESET_STREAM")
                            || l.contains("STOP_SENDING") || l.toLowerCase().contains("error"))
                    .limit(20)
                    .collect(Collectors.joining("\n"));
        }
    }

    /**
     * One gtlsclient connection to the TLS listener's UDP port, a stream per path (or more with -n).
     * Not quiet: the log names the error if the connection closes abnormally; frame and body dumps off.
     */
    private Gtls gtls(List<String> options, String... paths) throws IOException {
        Path exe = ExternalTool.require("gtlsclient");
        Path dir = Files.createDirectories(tmp.resolve("download-" + System.nanoTime()));
        int port = relay.tlsPort();
        List<String> cmd = new ArrayList<>(List.of(exe.toString(), "--exit-on-all-streams-close",
                "--no-quic-dump", "--no-http-dump", "--timeout=30s", "--download=" + dir));
        cmd.addAll(options);
        // Address by IP (the listener's), name by URI: SNI and :authority say localhost.
        cmd.addAll(List.of("--sni=localhost", "127.0.0.1", String.valueOf(port)));
        for (String p : paths) {
            cmd.add("https://localhost:" + port + p);
        }
        ExternalTool.Result r = ExternalTool.run(TIMEOUT, cmd);
        return new Gtls(r.exitCode(), r.stderr() + r.stdoutString(), dir);
    }

    static String sha256(Path file) throws IOException {
        assertThat(file).exists();
        // Streamed: the 10 MiB files need not sit in memory twice.
        try (var in = Files.newInputStream(file)) {
            var digest = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = in.read(buf)) > 0; ) {
                digest.update(buf, 0, n);
            }
            return java.util.HexFormat.of().formatHex(digest.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
