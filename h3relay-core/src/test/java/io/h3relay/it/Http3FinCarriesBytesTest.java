package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.testing.Http3TestEndpoint;
import io.h3relay.testing.RawHttp3Stream;
import io.h3relay.testing.TestEndpoint;
import io.netty.handler.codec.quic.QuicChannel;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every FIN the proxy sends on an HTTP/3 request stream rides on stream bytes, downstream (the end of a response)
 * and upstream (the end of a request body to an HTTP/3 endpoint), also when the end comes long after the last
 * bytes left, and whether the response ends with a body, trailers or a route's own answer; with QPACK's dynamic
 * table off (the connection's packets built once per event-loop turn) and on (built at every write). A STREAM
 * frame with the FIN and no bytes is never sent again by quiche (Netty 4.2.18's) when its packet is lost once the
 * bytes before it are acknowledged (cloudflare/quiche#2525's family): the peer would wait for the end of that
 * stream until a timeout. The proxy ends a stream with an empty DATA frame that carries the
 * FIN instead. Read from quiche's qlog on both sides of the proxy: the listener's (what it sent to the client)
 * and the HTTP/3 endpoint's (what it received from the proxy).
 */
class Http3FinCarriesBytesTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "[{index}] qpack_max_table_capacity {0}")
    @ValueSource(ints = {0, 4096})
    void theEndOfAStreamIsNeverAFrameWithoutBytes(int qpackCapacity) throws Exception {
        Path listenerLogs = Files.createDirectories(tmp.resolve("listener"));
        Path endpointLogs = Files.createDirectories(tmp.resolve("endpoint"));
        try (TestEndpoint h1 = TestEndpoint.start("fin");
             Http3TestEndpoint h3 = Http3TestEndpoint.startWithQlog(RelayHarness.certs(), endpointLogs)) {
            try (RelayHarness relay = RelayHarness.yaml(RelayHarness.LISTENERS.replace(
                    "protocols: [http1, http2, http3]",
                    "protocols: [http1, http2, http3]\n    http3: { qlog_dir: \"" + listenerLogs
                            + "\", qpack_max_table_capacity: " + qpackCapacity + " }") + """
                    routes:
                      - { name: direct, match: { path: /direct }, respond: { status: 200, body: "direct" } }
                      - { name: slow, match: { path_prefix: /delay }, cluster: h1, timeout: 200ms }
                      - { name: h3, match: { path_prefix: /h3/ }, cluster: h3, rewrite: { strip_prefix: /h3 } }
                      - { name: h1, match: { path_prefix: / }, cluster: h1 }
                    clusters:
                      - { name: h1, endpoints: [ { address: "@H1@" } ] }
                      - name: h3
                        protocol: http3
                        protocol_policy: exact
                        endpoints: [ { address: "localhost:@H3@" } ]
                        tls: { verify: true, ca: "@CA@" }
                    """).with("LIMITS", "{}").with("H1", h1.address()).with("H3", h3.port())
                    .with("CA", RelayHarness.certs().caCertPath()).start();
                 RawQuicClient client = new RawQuicClient()) {
                QuicChannel quic = client.connect(relay.tlsPort());
                for (String path : List.of("/echo", "/h3/echo")) {
                    // An upload whose end comes alone, well after its bytes were echoed back: the proxy ends the
                    // request upstream, and then the response downstream, each in a turn of its own.
                    byte[] head = FieldBlocks.h3Frame(1, FieldBlocks.qpack(List.of(new String[] {":method", "POST"},
                            new String[] {":scheme", "https"}, new String[] {":authority", "localhost"},
                            new String[] {":path", path})));
                    byte[] data = FieldBlocks.h3Frame(0, "hello".getBytes(StandardCharsets.US_ASCII));
                    RawHttp3Stream stream = RawHttp3Stream.open(quic);
                    stream.write(head, 0, head.length, false).sync();
                    stream.write(data, 0, data.length, false).sync();
                    Thread.sleep(300);
                    stream.write(new byte[0], 0, 0, true).sync();
                    RawHttp3Stream.Outcome o = stream.outcome().get(10, TimeUnit.SECONDS);
                    assertThat(o.fin()).as("%s ended", path).isTrue();
                    assertThat(FieldBlocks.h3Data(o.received())).as("%s echoed", path).isEqualTo("hello");
                }
                // A bodiless request to the HTTP/3 endpoint (its FIN rides on its head); a route's own answer; a
                // response with trailers; the proxy's own 504, written by a timer (outside any read).
                for (String[] get : new String[][] {{"/h3/ok", "ok"}, {"/direct", "direct"},
                        {"/trailers", null}, {"/delay?ms=3000", "upstream_timeout"}}) {
                    byte[] head = FieldBlocks.h3Frame(1, FieldBlocks.qpack(List.of(new String[] {":method", "GET"},
                            new String[] {":scheme", "https"}, new String[] {":authority", "localhost"},
                            new String[] {":path", get[0]})));
                    RawHttp3Stream.Outcome o = RawHttp3Stream.exchange(quic, head, true, Duration.ofSeconds(10));
                    assertThat(o.fin()).as("GET %s ended", get[0]).isTrue();
                    if (get[1] != null) {
                        assertThat(FieldBlocks.h3Data(o.received())).as("GET %s", get[0]).contains(get[1]);
                    } else { // the head, DATA frames, then the trailers' HEADERS frame
                        assertThat(FieldBlocks.h3FrameTypes(o.received())).as("GET %s's frames", get[0])
                                .startsWith(1L).endsWith(1L).contains(0L);
                    }
                }
                quic.close().sync();
            } // the connections close with the relay: quiche has written whole logs by then
        }
        List<Qlog.StreamFrame> toClient = Qlog.streamFrames(listenerLogs).stream()
                .filter(f -> f.sent() && f.onRequestStream() && f.fin()).toList();
        List<Qlog.StreamFrame> toEndpoint = Qlog.streamFrames(endpointLogs).stream()
                .filter(f -> !f.sent() && f.onRequestStream() && f.fin()).toList();
        // Six responses, two requests upstream (the upload ended after its bytes had gone: offset > 0), each
        // FIN with bytes of its own (a FIN frame sent again after a loss counts once per stream).
        assertThat(toClient.stream().map(f -> f.file() + ":" + f.streamId()).distinct().count())
                .as("streams the listener ended").isEqualTo(6);
        assertThat(toClient).as("the FINs the listener sent")
                .allSatisfy(f -> assertThat(f.length()).as("bytes with the FIN at %d", f.offset()).isPositive());
        assertThat(toEndpoint.stream().map(f -> f.file() + ":" + f.streamId()).distinct().count())
                .as("streams the endpoint received the end of").isEqualTo(2);
        assertThat(toEndpoint).as("the FINs the endpoint received")
                .anySatisfy(f -> assertThat(f.offset()).isPositive())
                .allSatisfy(f -> assertThat(f.length()).as("bytes with the FIN at %d", f.offset()).isPositive());
    }
}
