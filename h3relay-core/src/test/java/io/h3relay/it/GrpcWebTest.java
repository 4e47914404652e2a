package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.testing.Curl;
import io.h3relay.testing.ExternalTool;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * gRPC-Web through the proxy to a grpc-java server (h2c and TLS h2 endpoints), over h1, h2 and h3 downstream:
 * unary and server streaming in binary ({@code application/grpc-web+proto}) and text
 * ({@code application/grpc-web-text}, base64) mode, a status with message and metadata from the server as a
 * trailer frame, errors the proxy makes (no route, endpoint down, deadline) as trailer frames, a text body
 * arriving in many small parts. Clients we did not write: curl (h1, h2, h2c) posting a hand-framed body, and
 * headless Chromium making cross-origin {@code fetch()} calls over h1, h2 and h3 through the cors policy.
 */
class GrpcWebTest {
    /** Served by the proxy on the plain listener; calls the TLS listener (another origin) with gRPC-Web text. */
    private static final String PAGE = """
            <!doctype html><html><body>waiting</body><script>
            function frame(bytes) {
              const f = new Uint8Array(5 + bytes.length);
              new DataView(f.buffer).setUint32(1, bytes.length);
              f.set(bytes, 5);
              return btoa(String.fromCharCode(...f));
            }
            function decode(text) { // padded quanta one after the other: decode 4 characters at a time
              let s = '';
              for (let i = 0; i < text.length; i += 4) s += atob(text.substr(i, 4));
              return Uint8Array.from(s, c => c.charCodeAt(0));
            }
            function frames(bytes) {
              const out = {messages: [], trailers: ''};
              let i = 0;
              while (i + 5 <= bytes.length) {
                const len = new DataView(bytes.buffer, i + 1, 4).getUint32(0);
                const body = bytes.slice(i + 5, i + 5 + len);
                if (bytes[i] & 0x80) out.trailers += new TextDecoder().decode(body); else out.messages.push(body);
                i += 5 + len;
              }
              return out;
            }
            async function call(api, method, bytes) {
              const r = await fetch(api + '/test.Echo/' + method, {method: 'POST', body: frame(bytes),
                  headers: {'content-type': 'application/grpc-web-text', 'x-grpc-web': '1',
                            'accept': 'application/grpc-web-text'}});
              const f = frames(decode(await r.text()));
              const status = (f.trailers.match(/grpc-status: *(\\d+)/) || [])[1];
              return {http: r.status, type: r.headers.get('content-type'), f, status};
            }
            (async () => {
              const api = new URLSearchParams(location.search).get('api');
              const out = [];
              try {
                const u = await call(api, 'Unary', new TextEncoder().encode('hello from chromium'));
                out.push('unary=' + u.http + ',' + u.type + ',' + new TextDecoder().decode(u.f.messages[0])
                    + ',status=' + u.status);
                const d = await call(api, 'Download', new Uint8Array([0, 0, 0, 7]));
                out.push('download=' + d.f.messages.length + ',status=' + d.status);
                const e = await call(api, 'Fail', new Uint8Array(0));
                out.push('fail=' + e.http + ',status=' + e.status);
              } catch (e) { out.push('error=' + e); }
              document.body.textContent = out.join(' ');
            })();
            </script></html>
            """;

    static GrpcEcho h2c;
    static GrpcEcho tls;
    static RelayHarness relay;
    @TempDir
    static Path tmp;
    private static final int PAGE_PORT = freePort();
    private static final int DOWN_PORT = freePort();

    @BeforeAll
    static void start() {
        h2c = GrpcEcho.startH2c();
        tls = GrpcEcho.startTls(RelayHarness.certs());
        relay = RelayHarness.yaml("""
                admin: { address: 127.0.0.1:0 }
                listeners:
                  - name: tls
                    address: 127.0.0.1:0
                    protocols: [http1, http2, http3]
                    tls: { certificate: "@CERT@", private_key: "@KEY@" }
                    routes: [grpc-tls, grpc-retry, grpc, down]
                  - name: plain
                    address: 127.0.0.1:@PAGEPORT@
                    protocols: [http1, h2c]
                    routes: [page, grpc-tls, grpc-retry, grpc, down]
                routes:
                  - name: page
                    match: { path: /page }
                    respond: { status: 200, body: @PAGE@, headers: { content-type: text/html } }
                  - name: grpc-tls
                    match: { path_prefix: /test.Echo/, headers: { x-upstream: tls } }
                    cluster: tls
                  - name: grpc-retry
                    match: { path_prefix: /test.Echo/, headers: { x-retry: "yes" } }
                    cluster: echo
                    retry: { attempts: 2, on: [unavailable] }
                  - name: grpc
                    match: { path_prefix: /test.Echo/ }
                    cluster: echo
                    policies:
                      cors:
                        allow_origins: ["http://127.0.0.1:@PAGEPORT@"]
                        allow_methods: [POST]
                        allow_headers: [content-type, x-grpc-web, x-user-agent, grpc-timeout]
                        expose_headers: [grpc-status, grpc-message]
                  - name: down
                    match: { path_prefix: /down.Service/ }
                    cluster: down
                clusters:
                  - { name: echo, protocol: h2c, endpoints: [ { address: "@H2C@" } ] }
                  - name: tls
                    protocol: http2
                    endpoints: [ { address: "localhost:@TLSPORT@" } ]
                    tls: { verify: true, ca: "@CA@" }
                  - { name: down, protocol: h2c, endpoints: [ { address: "127.0.0.1:@DOWNPORT@" } ] }
                shutdown: { drain_timeout: 1s }
                """).with("H2C", h2c.address()).with("TLSPORT", tls.port())
                .with("CA", RelayHarness.certs().caCertPath()).with("PAGE", jsonString(PAGE))
                .with("PAGEPORT", PAGE_PORT).with("DOWNPORT", DOWN_PORT).start();
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            relay.close();
        }
        h2c.close();
        tls.close();
    }

    private static int freePort() {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String jsonString(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }

    // ---- the wire format, written here from the spec (not the proxy's code) -----------------------------

    /** One message as a gRPC frame: flag 0, 4-byte big-endian length, the bytes. */
    static byte[] frame(byte[] message) {
        return ByteBuffer.allocate(5 + message.length).put((byte) 0).putInt(message.length).put(message).array();
    }

    /** Padded base64 quanta one after the other (a chunk at a time), decoded 4 characters at a time. */
    static byte[] decodeText(byte[] text) {
        String s = new String(text, StandardCharsets.US_ASCII).replaceAll("\\s", "");
        assertThat(s.length() % 4).as("base64 text in whole quanta: %s", s).isZero();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i += 4) {
            out.writeBytes(Base64.getDecoder().decode(s.substring(i, i + 4)));
        }
        return out.toByteArray();
    }

    /** A gRPC-Web response body: its messages and the trailer frame's lines (which must come last, once). */
    record Frames(List<byte[]> messages, Map<String, String> trailers) {
        String status() {
            return trailers.get("grpc-status");
        }
    }

    static Frames parse(byte[] body) {
        ByteBuffer b = ByteBuffer.wrap(body);
        List<byte[]> messages = new ArrayList<>();
        Map<String, String> trailers = null;
        while (b.hasRemaining()) {
            assertThat(trailers).as("nothing after the trailer frame").isNull();
            assertThat(b.remaining()).as("a whole frame header").isGreaterThanOrEqualTo(5);
            int flag = b.get() & 0xff;
            byte[] payload = new byte[b.getInt()];
            b.get(payload);
            if ((flag & 0x80) != 0) {
                trailers = new LinkedHashMap<>();
                for (String line : new String(payload, StandardCharsets.UTF_8).split("\r\n")) {
                    if (!line.isEmpty()) {
                        int colon = line.indexOf(':');
                        trailers.put(line.substring(0, colon), line.substring(colon + 1).trim());
                    }
                }
            } else {
                assertThat(flag).isZero();
                messages.add(payload);
            }
        }
        assertThat(trailers).as("a trailer frame ends the body").isNotNull();
        return new Frames(messages, trailers);
    }

    enum Mode {
        BINARY("application/grpc-web+proto", "application/grpc-web+proto"),
        TEXT("application/grpc-web-text", "application/grpc-web-text+proto");

        final String requestType;
        final String responseType;

        Mode(String requestType, String responseType) {
            this.requestType = requestType;
            this.responseType = responseType;
        }

        byte[] encode(byte[] grpcBody) {
            return this == TEXT ? Base64.getEncoder().encode(grpcBody) : grpcBody;
        }

        byte[] decode(byte[] body) {
            return this == TEXT ? decodeText(body) : body;
        }
    }

    static List<Arguments> protosAndModes() {
        List<Arguments> out = new ArrayList<>();
        for (Proto p : Proto.values()) {
            for (Mode m : Mode.values()) {
                out.add(Arguments.of(p, m));
            }
        }
        return out;
    }

    private static HttpResponse<byte[]> call(Proto proto, Mode mode, String path, HttpRequest.BodyPublisher body,
                                             String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(relay.uri(proto, path)).timeout(Duration.ofSeconds(20))
                .POST(body).header("content-type", mode.requestType).header("x-grpc-web", "1");
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return relay.client(proto).send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static Frames call(Proto proto, Mode mode, String path, byte[] message, String... headers) throws Exception {
        HttpResponse<byte[]> res = call(proto, mode, path,
                HttpRequest.BodyPublishers.ofByteArray(mode.encode(frame(message))), headers);
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("content-type")).hasValue(mode.responseType);
        assertThat(res.headers().firstValue("grpc-status")).as("the status is in the body").isEmpty();
        return parse(mode.decode(res.body()));
    }

    // ---- Java clients over h1, h2, h3 -----------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("protosAndModes")
    void unary(Proto proto, Mode mode) throws Exception {
        Frames f = call(proto, mode, "/test.Echo/Unary", "hello grpc-web".getBytes());
        assertThat(f.messages()).hasSize(1);
        assertThat(new String(f.messages().get(0))).isEqualTo("hello grpc-web");
        assertThat(f.status()).isEqualTo("0");
    }

    @ParameterizedTest
    @MethodSource("protosAndModes")
    void unaryToATlsEndpoint(Proto proto, Mode mode) throws Exception {
        byte[] big = new byte[300_000];
        new java.util.Random(3).nextBytes(big);
        Frames f = call(proto, mode, "/test.Echo/Unary", big, "x-upstream", "tls");
        assertThat(f.messages()).hasSize(1);
        assertThat(f.messages().get(0)).isEqualTo(big);
        assertThat(f.status()).isEqualTo("0");
    }

    @ParameterizedTest
    @MethodSource("protosAndModes")
    void serverStreaming(Proto proto, Mode mode) throws Exception {
        Frames f = call(proto, mode, "/test.Echo/Download", ByteBuffer.allocate(4).putInt(2_000).array());
        assertThat(f.messages()).hasSize(2_000);
        for (int i = 0; i < 2_000; i++) {
            assertThat(ByteBuffer.wrap(f.messages().get(i)).getLong()).isEqualTo(i);
        }
        assertThat(f.status()).isEqualTo("0");
    }

    @ParameterizedTest
    @MethodSource("protosAndModes")
    void statusMessageAndMetadataFromTheServer(Proto proto, Mode mode) throws Exception {
        Frames f = call(proto, mode, "/test.Echo/Fail", new byte[0]);
        assertThat(f.messages()).isEmpty();
        assertThat(f.status()).isEqualTo("3"); // INVALID_ARGUMENT
        assertThat(f.trailers().get("grpc-message")).isEqualTo("bad thing: %C3%BCn%C3%AFcode %25");
        assertThat(f.trailers().get("x-detail")).isEqualTo("detail text");
        assertThat(Base64.getDecoder().decode(f.trailers().get("x-detail-bin"))).containsExactly(0, 1, 2, 0xff);
    }

    @ParameterizedTest
    @MethodSource("protosAndModes")
    void trailersOnlyFromTheServerBecomeATrailerFrame(Proto proto, Mode mode) throws Exception {
        // FLAKY fails every other call with UNAVAILABLE as a trailers-only response (HEADERS with END_STREAM).
        List<String> statuses = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            statuses.add(call(proto, mode, "/test.Echo/Flaky", "x".getBytes()).status());
        }
        assertThat(statuses).containsExactlyInAnyOrder("0", "14");
    }

    /** A retry sends the body again as it went the first time: a text body is decoded once, not twice. */
    @ParameterizedTest
    @MethodSource("protosAndModes")
    void aRetriedCallSendsTheSameMessage(Proto proto, Mode mode) throws Exception {
        int before = h2c.flakyCalls();
        for (int i = 0; i < 3; i++) {
            Frames f = call(proto, mode, "/test.Echo/Flaky", ("retry me " + i).getBytes(), "x-retry", "yes");
            assertThat(f.status()).isEqualTo("0");
            assertThat(new String(f.messages().get(0))).isEqualTo("retry me " + i);
        }
        assertThat(h2c.flakyCalls() - before).as("at least one call was retried").isGreaterThanOrEqualTo(4);
    }

    @ParameterizedTest
    @MethodSource("protosAndModes")
    void errorsOfTheProxyAreTrailerFrames(Proto proto, Mode mode) throws Exception {
        Frames noRoute = call(proto, mode, "/other.Service/Method", new byte[0]);
        assertThat(noRoute.status()).isEqualTo("12"); // UNIMPLEMENTED
        assertThat(noRoute.trailers().get("grpc-message")).contains("no route").contains("request_id");
        Frames down = call(proto, mode, "/down.Service/Method", new byte[0]);
        assertThat(down.status()).isEqualTo("14"); // UNAVAILABLE
        Frames late = call(proto, mode, "/test.Echo/Hang", new byte[0], "grpc-timeout", "300m");
        assertThat(late.status()).isEqualTo("4"); // DEADLINE_EXCEEDED
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void aTextBodyInManySmallParts(Proto proto) throws Exception {
        byte[] message = new byte[10_000];
        new java.util.Random(5).nextBytes(message);
        // Two messages (client streaming), each base64-encoded on its own (padding in the middle of the body),
        // sent in parts of 7 characters: quanta split across parts everywhere.
        byte[] text = (Base64.getEncoder().encodeToString(frame(message)) + Base64.getEncoder().encodeToString(
                frame("x".getBytes()))).getBytes(StandardCharsets.US_ASCII);
        List<HttpRequest.BodyPublisher> parts = new ArrayList<>();
        for (int i = 0; i < text.length; i += 7) {
            parts.add(HttpRequest.BodyPublishers.ofByteArray(text, i, Math.min(7, text.length - i)));
        }
        HttpResponse<byte[]> res = call(proto, Mode.TEXT, "/test.Echo/Upload",
                HttpRequest.BodyPublishers.concat(parts.toArray(HttpRequest.BodyPublisher[]::new)));
        assertThat(res.statusCode()).isEqualTo(200);
        Frames f = parse(decodeText(res.body()));
        assertThat(f.status()).isEqualTo("0");
        assertThat(ByteBuffer.wrap(f.messages().get(0)).getInt()).as("messages the server received").isEqualTo(2);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void textThatIsNotBase64EndsAsAGrpcError(Proto proto) throws Exception {
        HttpResponse<byte[]> res = call(proto, Mode.TEXT, "/test.Echo/Unary",
                HttpRequest.BodyPublishers.ofString("AAAAAAVoZWxsbw!!"));
        assertThat(res.statusCode()).isEqualTo(200);
        Frames f = parse(decodeText(res.body()));
        assertThat(f.messages()).isEmpty();
        assertThat(f.status()).isNotEqualTo("0");
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void corsHeadersOnGrpcWebResponses(Proto proto) throws Exception {
        String origin = "http://127.0.0.1:" + PAGE_PORT;
        HttpResponse<byte[]> res = call(proto, Mode.TEXT, "/test.Echo/Unary",
                HttpRequest.BodyPublishers.ofByteArray(Mode.TEXT.encode(frame("hi".getBytes()))), "origin", origin);
        assertThat(res.headers().firstValue("access-control-allow-origin")).hasValue(origin);
        assertThat(res.headers().firstValue("access-control-expose-headers")).hasValue("grpc-status, grpc-message");
    }

    // ---- clients we did not write ---------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"h1", "h2", "h2c"})
    void curlPostsAHandFramedBody(String mode) {
        byte[] binary = frame("from curl".getBytes());
        Curl c = (mode.equals("h2c") ? Curl.to(relay.plainUrl("/test.Echo/Unary")).http2PriorKnowledge()
                : Curl.to(relay.tlsUrl("/test.Echo/Unary")).cacert(RelayHarness.certs().caCertPath()))
                .header("content-type", "application/grpc-web").header("x-grpc-web", "1").body(binary);
        if (mode.equals("h1")) {
            c.http1_1();
        } else if (mode.equals("h2")) {
            c.http2();
        }
        Curl.Response res = c.execute();
        assertThat(res.exitCode()).as(res.stderr()).isZero();
        assertThat(res.status()).isEqualTo(200);
        assertThat(res.httpVersion()).isEqualTo(mode.equals("h1") ? "1.1" : "2");
        assertThat(res.header("content-type")).hasValue("application/grpc-web+proto");
        assertThat(res.trailers()).as("no HTTP trailers: they are in the body").isEmpty();
        Frames f = parse(res.body());
        assertThat(new String(f.messages().get(0))).isEqualTo("from curl");
        assertThat(f.status()).isEqualTo("0");

        Curl.Response text = (mode.equals("h2c") ? Curl.to(relay.plainUrl("/test.Echo/Fail")).http2PriorKnowledge()
                : Curl.to(relay.tlsUrl("/test.Echo/Fail")).cacert(RelayHarness.certs().caCertPath())
                        .version(mode.equals("h1") ? Curl.Version.HTTP1_1 : Curl.Version.HTTP2))
                .header("content-type", "application/grpc-web-text").body(Base64.getEncoder().encode(frame(new byte[0])))
                .execute();
        assertThat(text.header("content-type")).hasValue("application/grpc-web-text+proto");
        assertThat(parse(decodeText(text.body())).status()).isEqualTo("3");
    }

    @ParameterizedTest
    @ValueSource(strings = {"h1", "h2", "h3"})
    void chromiumFetchesGrpcWebCrossOrigin(String mode) {
        Path chromium = ExternalTool.require("chromium");
        int api = relay.tlsPort();
        List<String> args = new ArrayList<>(List.of(chromium.toString(),
                "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + tmp.resolve("chromium-" + mode),
                "--host-resolver-rules=MAP localhost 127.0.0.1",
                "--ignore-certificate-errors-spki-list=" + RelayHarness.certs().spkiSha256Base64(),
                "--virtual-time-budget=10000"));
        if (mode.equals("h1")) {
            args.add("--disable-http2");
        } else if (mode.equals("h3")) {
            args.add("--enable-quic");
            args.add("--origin-to-force-quic-on=localhost:" + api);
        }
        args.add("--dump-dom");
        args.add("http://127.0.0.1:" + PAGE_PORT + "/page?api=https://localhost:" + api);
        ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(60), args.toArray(String[]::new));
        String log = r.stderr().lines().filter(l -> !l.contains("dbus")).collect(Collectors.joining("\n"));
        assertThat(r.exitCode()).as(log).isZero();
        assertThat(r.stdoutString()).as(log)
                .contains("unary=200,application/grpc-web-text+proto,hello from chromium,status=0")
                .contains("download=7,status=0")
                .contains("fail=200,status=3");
    }

    @Test
    void grpcOverHttp1IsStillRefusedWithAHint() throws Exception {
        HttpResponse<String> res = relay.client(Proto.H1).send(HttpRequest.newBuilder(relay.uri(Proto.H1,
                        "/test.Echo/Unary")).POST(HttpRequest.BodyPublishers.ofByteArray(frame(new byte[0])))
                .header("content-type", "application/grpc").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).isEqualTo(400);
        assertThat(res.body()).contains("gRPC-Web");
    }
}
