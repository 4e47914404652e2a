package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.testing.RawHttp3Stream;
import io.h3relay.testing.TestEndpoint;
import io.netty.handler.codec.quic.QuicChannel;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A bodiless HTTP/3 request whose FIN comes in a packet of its own, after the HEADERS: the proxy holds the head
 * until that FIN (to tell a GET from an upload), so the exchange starts inside the read of the FIN-only packet,
 * and a route that answers by itself ({@code respond}) writes the whole answer, FIN included, in that read; here
 * every answer must arrive whole, many times in a row on one connection, for a direct answer and for a proxied one.
 * (The FIN our HTTP/3 test endpoint "lost" in that shape was a FIN frame without bytes, which quiche never resends
 * when its packet is lost: see Http3FinCarriesBytesTest.)
 */
class Http3SeparateFinTest {
    private static final int ROUNDS = 60;
    private static TestEndpoint endpoint;
    private static RelayHarness relay;
    private static RawQuicClient client;

    @BeforeAll
    static void start() throws Exception {
        endpoint = TestEndpoint.start("separate-fin");
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - name: ping
                    match: { path: /ping }
                    respond: { status: 200, body: "pong", headers: { content-type: text/plain } }
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                """).with("LIMITS", "{}").with("EP", endpoint.address()).start();
        client = new RawQuicClient();
    }

    @AfterAll
    static void stop() {
        client.close();
        relay.close();
        endpoint.close();
    }

    @ParameterizedTest(name = "[{index}] GET {0}")
    @CsvSource({"/ping, pong", "/hello, endpoint separate-fin"})
    void everyAnswerArrivesWholeWhenTheRequestsFinComesAlone(String path, String body) throws Exception {
        byte[] head = FieldBlocks.h3Frame(1, FieldBlocks.qpack(List.of(new String[] {":method", "GET"},
                new String[] {":scheme", "https"}, new String[] {":authority", "localhost"},
                new String[] {":path", path})));
        QuicChannel quic = client.connect(relay.tlsPort());
        try {
            for (int i = 0; i < ROUNDS; i++) {
                RawHttp3Stream stream = RawHttp3Stream.open(quic);
                stream.write(head, 0, head.length, false).sync(); // the HEADERS leave in a packet of their own
                Thread.sleep(2); // the proxy reads them (and holds the head) before the FIN arrives
                stream.write(new byte[0], 0, 0, true).sync(); // a STREAM frame with the FIN and no data
                RawHttp3Stream.Outcome o = stream.outcome().get(10, TimeUnit.SECONDS);
                assertThat(o.fin()).as("request %d of %d ended with a FIN", i + 1, ROUNDS).isTrue();
                assertThat(FieldBlocks.h3Data(o.received())).as("request %d's body", i + 1).isEqualTo(body);
            }
        } finally {
            quic.close().sync();
        }
    }
}
