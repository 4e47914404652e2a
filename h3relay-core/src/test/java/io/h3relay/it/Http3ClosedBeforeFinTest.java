package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.h3relay.testing.RawHttp3Stream;
import io.h3relay.testing.TestEndpoint;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.quic.QuicChannel;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Netty 4.2.18 keeps a request stream that closed before the client's FIN was read in its connection's stream map
 * until the connection closes (about 0.8 KB each). Such streams are common and cheap for a client to make: here,
 * uploads declared larger than {@code max_request_body_size}, answered 413 at once with the rest of the upload
 * stopped. After 1,000 of them on one connection the proxy sends GOAWAY and closes the connection once its
 * streams are done, so one connection cannot grow the proxy's heap without bound; a new connection is served.
 */
class Http3ClosedBeforeFinTest {
    private static final int LIMIT = 1_000;
    private static TestEndpoint endpoint;
    private static RelayHarness relay;
    private static RawQuicClient client;

    @BeforeAll
    static void start() throws Exception {
        endpoint = TestEndpoint.start("closed-before-fin");
        relay = RelayHarness.singleCluster(endpoint.address(), "{ max_request_body_size: 16 }");
        client = new RawQuicClient();
    }

    @AfterAll
    static void stop() {
        client.close();
        relay.close();
        endpoint.close();
    }

    private static QuicChannel connect() throws Exception {
        return client.connect(relay.tlsPort());
    }

    /** HEADERS of a POST declaring 100,000 bytes and a first DATA frame of 900, without the FIN. */
    private static byte[] oversizedUploadStart() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(FieldBlocks.h3Frame(1, FieldBlocks.qpack(List.of(new String[] {":method", "POST"},
                new String[] {":scheme", "https"}, new String[] {":authority", "localhost"},
                new String[] {":path", "/sink"}, new String[] {"content-length", "100000"}))));
        out.writeBytes(FieldBlocks.h3Frame(0, new byte[900]));
        return out.toByteArray();
    }

    @Test
    void aConnectionIsDrainedAfterAThousandStreamsClosedBeforeTheClientsFin() throws Exception {
        byte[] upload = oversizedUploadStart();
        QuicChannel quic = connect();
        Http3ClientConnectionHandler h3 = quic.pipeline().get(Http3ClientConnectionHandler.class);
        for (int i = 1; i <= LIMIT; i++) {
            RawHttp3Stream stream = RawHttp3Stream.open(quic);
            stream.write(upload, 0, upload.length, false);
            RawHttp3Stream.Outcome o = stream.outcome().get(10, TimeUnit.SECONDS);
            assertThat(o.fin()).as("upload %d answered with a FIN", i).isTrue();
            assertThat(FieldBlocks.h3Data(o.received())).as("upload %d's answer", i).contains("413");
            stream.channel().close();
            if (i == LIMIT - 1) {
                Thread.sleep(100); // a GOAWAY sent now would have arrived
                assertThat(h3.isGoAwayReceived()).as("GOAWAY before the limit").isFalse();
                assertThat(quic.isActive()).isTrue();
            }
        }
        await().atMost(Duration.ofSeconds(5)).until(h3::isGoAwayReceived);
        assertThat(quic.closeFuture().await(5, TimeUnit.SECONDS)).as("the drained connection closed").isTrue();

        QuicChannel fresh = connect();
        try {
            byte[] get = FieldBlocks.h3Frame(1, FieldBlocks.qpack(List.of(new String[] {":method", "GET"},
                    new String[] {":scheme", "https"}, new String[] {":authority", "localhost"},
                    new String[] {":path", "/hello"})));
            RawHttp3Stream.Outcome o = RawHttp3Stream.exchange(fresh, get, true, Duration.ofSeconds(10));
            assertThat(FieldBlocks.h3Data(o.received())).isEqualTo("endpoint closed-before-fin");
        } finally {
            fresh.close().sync();
        }
    }
}
