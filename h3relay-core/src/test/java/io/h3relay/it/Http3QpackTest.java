package io.h3relay.it;

import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * QPACK's dynamic table ({@code http3.qpack_max_table_capacity}, {@code qpack_blocked_streams}) with nghttp3 (in
 * ngtcp2's gtlsclient) as the peer: 100 requests on one connection, and the header bytes the client sends
 * (its request streams' HEADERS plus its QPACK encoder stream, counted from its own frame log) with the table off
 * (the default: literals and the static table) and on, and the bytes of the responses it receives. With the
 * table on, our responses are encoded against the table nghttp3 advertises (their repeated fields become
 * references) and still arrive whole: every request gets its 200.
 * <p>
 * Realistic headers (what gtlsclient cannot send): headless Chromium with 1.6 KB of cookies, its user agent,
 * client hints, accept-* and sec-fetch-* fields fetches 100 small responses on one connection; the client's
 * header bytes are counted on our side, from the listener's qlog (the STREAM frames quiche received on the
 * client's request streams and its unidirectional streams: control, QPACK encoder and decoder).
 */
class Http3QpackTest {
    private static final int REQUESTS = 100;
    private static final Pattern ENCODER = Pattern.compile("QPACK streams encoder=([0-9a-f]+)");
    private static final Pattern STREAM_TX = Pattern.compile("frm tx \\d+ 1RTT STREAM\\(0x0[8-f]\\) id=0x([0-9a-f]+) fin=\\d offset=(\\d+) len=(\\d+) uni=(\\d)");
    private static final Pattern STREAM_RX = Pattern.compile("frm rx \\d+ 1RTT STREAM\\(0x0[8-f]\\) id=0x([0-9a-f]+) fin=\\d offset=(\\d+) len=(\\d+) uni=(\\d)");

    @TempDir
    Path tmp;

    /** {@code headerBytes}: what the client sent (requests + its encoder stream); {@code received}: all stream bytes it got. */
    private record Run(long headerBytes, long received, int ok, String log) {}

    private Run run(String http3) throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("qpack");
             RelayHarness relay = RelayHarness.yaml(RelayHarness.LISTENERS.replace("protocols: [http1, http2, http3]",
                     "protocols: [http1, http2, http3]\n    http3: " + http3) + """
                     routes:
                       - { name: all, match: { path_prefix: / }, cluster: c }
                     clusters:
                       - { name: c, endpoints: [ { address: "@EP@" } ] }
                     """).with("LIMITS", "{}").with("EP", endpoint.address()).start()) {
            Path exe = ExternalTool.require("gtlsclient");
            int port = relay.tlsPort();
            Path dir = Files.createDirectories(tmp.resolve("dl-" + System.nanoTime()));
            ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(60), List.of(exe.toString(),
                    "--exit-on-all-streams-close", "--timeout=20s", "--download=" + dir, "-n", String.valueOf(REQUESTS),
                    // Requests after our SETTINGS arrived: nghttp3 uses the table only once it knows its capacity.
                    "--delay-stream=300ms",
                    "--sni=localhost", "127.0.0.1", String.valueOf(port),
                    "https://localhost:" + port + "/small-response-for-a-long-request-path-that-repeats"));
            String log = r.stderr() + r.stdoutString();
            assertThat(r.exitCode()).isZero();
            Matcher enc = ENCODER.matcher(log);
            assertThat(enc.find()).isTrue();
            long encoderStream = Long.parseLong(enc.group(1), 16);
            // Each stream range once: a frame sent again after a loss is not more header bytes.
            java.util.Set<String> seen = new java.util.HashSet<>();
            long bytes = 0;
            Matcher m = STREAM_TX.matcher(log);
            while (m.find()) {
                long id = Long.parseLong(m.group(1), 16);
                if ((m.group(4).equals("0") || id == encoderStream) && seen.add(m.group(1) + ":" + m.group(2))) {
                    bytes += Long.parseLong(m.group(3));
                }
            }
            long received = 0;
            Matcher rx = STREAM_RX.matcher(log);
            while (rx.find()) {
                if (seen.add("rx" + rx.group(1) + ":" + rx.group(2))) {
                    received += Long.parseLong(rx.group(3));
                }
            }
            int ok = (int) log.lines().filter(l -> l.contains("[:status: 200]")).count();
            return new Run(bytes, received, ok, log);
        }
    }

    @Test
    void theDynamicTableShrinksRequestHeadersAndResponsesStayWhole() throws Exception {
        Run off = run("{ retry: false }");
        Run on = run("{ retry: false, qpack_max_table_capacity: 4KiB, qpack_blocked_streams: 16 }");

        assertThat(off.ok()).isEqualTo(REQUESTS);
        assertThat(on.ok()).as(on.log().lines().filter(l -> l.contains("error") || l.contains("CLOSE")).toList()
                .toString()).isEqualTo(REQUESTS);
        System.out.printf("QPACK %d requests: client sent %d (off) / %d (on) header bytes, received %d / %d stream bytes%n",
                REQUESTS, off.headerBytes(), on.headerBytes(), off.received(), on.received());
        assertThat(off.headerBytes()).isPositive();
        // Our responses, encoded against the table nghttp3 advertises: the same 100 responses in fewer bytes.
        assertThat(on.received()).as("bytes of 100 responses with the dynamic table").isLessThan(off.received() * 9 / 10);
        // nghttp3's requests: it indexes :authority and user-agent once our SETTINGS allow it, but sends literals
        // again while the entries it inserted are not yet acknowledged beyond qpack_blocked_streams, so the gain
        // on 100 back-to-back requests is small (docs/protocols.md); it must not be a loss.
        assertThat(on.headerBytes()).as("request header bytes with the dynamic table").isLessThanOrEqualTo(off.headerBytes());
    }

    /**
     * 100 same-origin fetches after 8 cookies of about 200 bytes each were set, like a page's API calls; the page
     * digests all 100 statuses and bodies so the two runs can be compared.
     */
    private static final String CHROMIUM_PAGE = """
            <!doctype html><html><body>qpack<script>
            addEventListener('load', async () => {
              let seed = 7;
              const rnd = n => { let s = ''; const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
                for (let i = 0; i < n; i++) { seed = (seed * 1103515245 + 12345) % 2147483648; s += a[seed % 64]; } return s; };
              for (let i = 0; i < 8; i++) document.cookie = 'session_part' + i + '=' + rnd(190) + '; path=/';
              let all = '';
              let ok = 0;
              for (let i = 0; i < 100; i++) {
                const r = await fetch('/bytes?n=64&i=' + i, { headers: { 'accept': 'application/json, text/plain, */*' } });
                all += r.status + ':' + await r.text() + ';';
                if (r.status === 200) ok++;
              }
              const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(all)));
              document.body.textContent = 'ok=' + ok + ' cookies=' + document.cookie.length + ' digest='
                  + Array.from(d, b => b.toString(16).padStart(2, '0')).join('') + ' jar=' + document.cookie + '|';
            });
            </script></body></html>
            """;

    /** What the Chromium run left: its DOM line, and the client's stream and UDP bytes seen by the listener. */
    private record ChromiumRun(String dom, long clientStreamBytes, long clientUdpBytes, int requestStreams,
                               int fetches, int intact, int connections) {}

    private ChromiumRun chromium(String http3) throws Exception {
        Path qlogDir = Files.createDirectories(tmp.resolve("qlog-" + System.nanoTime()));
        String dom;
        int intact;
        int fetches;
        try (TestEndpoint endpoint = TestEndpoint.start("qpack");
             RelayHarness relay = RelayHarness.yaml(RelayHarness.LISTENERS.replace("protocols: [http1, http2, http3]",
                     "protocols: [http1, http2, http3]\n    http3: { qlog_dir: \"" + qlogDir + "\", " + http3 + " }") + """
                     routes:
                       - name: page
                         match: { path: /qpack-page }
                         respond:
                           status: 200
                           headers: { content-type: text/html }
                           body: |
                     @PAGE@
                       - { name: all, match: { path_prefix: / }, cluster: c }
                     clusters:
                       - { name: c, endpoints: [ { address: "@EP@" } ] }
                     """).with("LIMITS", "{}").with("EP", endpoint.address())
                     .with("PAGE", CHROMIUM_PAGE.indent(8).stripTrailing()).start()) {
            Path exe = ExternalTool.require("chromium");
            int port = relay.tlsPort();
            ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(90), exe.toString(),
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--user-data-dir=" + tmp.resolve("chromium-" + System.nanoTime()),
                    "--enable-quic", "--origin-to-force-quic-on=localhost:" + port,
                    "--host-resolver-rules=MAP localhost 127.0.0.1",
                    "--ignore-certificate-errors-spki-list=" + RelayHarness.certs().spkiSha256Base64(),
                    "--virtual-time-budget=30000",
                    "--dump-dom", "https://localhost:" + port + "/qpack-page");
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            dom = r.stdoutString();
            // What reached the endpoint: every fetch must carry the page's cookies and Chromium's user agent, as
            // sent (the QPACK decoder rebuilt them from the dynamic table when it was on).
            Set<String> jar = Set.of(dom.replaceAll("(?s).*jar=([^|]*)\\|.*", "$1").split("; "));
            List<io.h3relay.testing.RecordedRequest> fetched = endpoint.requests().stream()
                    .filter(q -> q.uri().startsWith("/bytes?n=64&i=")).toList();
            String agent = fetched.isEmpty() ? "" : fetched.get(0).header("user-agent").orElse("");
            intact = (int) fetched.stream().filter(q -> agent.contains("Chrome")
                    && q.header("user-agent").orElse("").equals(agent)
                    && Set.copyOf(q.headerValues("cookie").stream().flatMap(v -> Stream.of(v.split("; "))).toList()).equals(jar))
                    .count();
            fetches = fetched.size();
        } // closing the relay closes the connection: quiche has written the whole qlog
        long stream = 0;
        long udp = 0;
        Set<Long> requests = new HashSet<>();
        Set<String> seen = new HashSet<>();
        List<Path> files = Qlog.files(qlogDir);
        assertThat(files).isNotEmpty();
        for (Qlog.Packet p : Qlog.packets(qlogDir)) {
            if (p.sent()) {
                continue;
            }
            udp += p.udpLength();
            for (Qlog.StreamFrame frame : p.streamFrames()) {
                long id = frame.streamId();
                // Client-initiated streams only (bidirectional: requests; unidirectional: control, QPACK),
                // each range once (a retransmission is not more header bytes).
                if (id % 2 == 0 && seen.add(frame.file() + ":" + id + ":" + frame.offset())) {
                    stream += frame.length();
                    if (frame.onRequestStream()) {
                        requests.add(id);
                    }
                }
            }
        }
        return new ChromiumRun(dom, stream, udp, requests.size(), fetches, intact, files.size());
    }

    /**
     * The issue's measurement with realistic headers: the same 100 requests from Chromium with the dynamic table off
     * and on. On, Chromium indexes its cookies, user agent and the rest once and refers to them afterwards; the
     * bytes it sends on its streams drop to a fraction, every response is the same (the page's digest) and every
     * request reaches the endpoint with the cookies and user agent Chromium sent.
     */
    @Test
    void chromiumsLargeRealisticHeadersShrinkWithTheDynamicTable() throws Exception {
        ChromiumRun off = chromium("retry: false");
        ChromiumRun on = chromium("retry: false, qpack_max_table_capacity: 16KiB, qpack_blocked_streams: 100");
        System.out.printf("QPACK Chromium 100 requests with 1.6 KB cookies: client stream bytes %d (off) / %d (on), "
                        + "client UDP bytes %d / %d, request streams %d / %d, fetches at the endpoint %d / %d, "
                        + "with intact cookies and user agent %d / %d, connections %d / %d%n", off.clientStreamBytes(),
                on.clientStreamBytes(), off.clientUdpBytes(), on.clientUdpBytes(), off.requestStreams(), on.requestStreams(),
                off.fetches(), on.fetches(), off.intact(), on.intact(), off.connections(), on.connections());
        assertThat(off.intact()).as("off: every fetch's headers intact").isEqualTo(off.fetches()).isGreaterThanOrEqualTo(100);
        assertThat(off.dom()).contains("ok=100");
        String digest = off.dom().replaceAll("(?s).*digest=([0-9a-f]{64}).*", "$1");
        assertThat(digest).hasSize(64);
        assertThat(on.dom()).as("the same 100 responses").contains("ok=100").contains("digest=" + digest);
        assertThat(off.requestStreams()).as("page + 100 fetches (+ favicon)").isGreaterThanOrEqualTo(101);
        // Off: every request repeats ~1.6 KB of cookies plus ~0.5 KB of other fields as literals.
        assertThat(off.clientStreamBytes()).isGreaterThan(100 * 1600L);
        assertThat(on.clientStreamBytes()).as("client header bytes with the dynamic table")
                .isLessThan(off.clientStreamBytes() / 4);
        assertThat(on.clientUdpBytes()).isLessThan(off.clientUdpBytes());
        assertThat(on.intact()).as("on: every fetch's headers intact").isEqualTo(on.fetches());
        // Netty 4.2.18's QPACK decoder misreads the relative indexes in Chromium's encoder instructions and closed
        // the connection (QPACK_ENCODER_STREAM_ERROR; Chromium reconnected) until QpackEncoderStreamFix rewrote them.
        assertThat(on.connections()).as("one connection: no QPACK error closed one").isEqualTo(1);
    }
}
