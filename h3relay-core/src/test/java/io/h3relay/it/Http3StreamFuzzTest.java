package io.h3relay.it;

import org.junit.jupiter.api.parallel.Isolated;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.h3relay.testing.RawHttp3Stream;
import io.h3relay.testing.TestEndpoint;
import io.netty.handler.codec.quic.QuicChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Fuzz target (issue 18): any bytes as an HTTP/3 request stream (frames, QPACK field sections, DATA in any
 * order, cut anywhere), through h3relay's whole request-stream pipeline: h3relay's own request-stream codec
 * ({@code listener/h3/Http3RequestStream}: frames, QPACK with the static table, the request's checks, the head
 * timeout; QPACK's dynamic table is off here, the default), {@code Http3StreamSession}, the
 * {@code RequestChecks} and forwarding to an endpoint. (Until 2026-12-07 this was Netty's HTTP/3 frame codec,
 * QPACK decoder, validators and adapter with h3relay's guard; the corpus's findings are from then.)
 *
 * <p>Over a real QUIC connection, not an embedded channel: a request stream needs a {@code QuicChannel} parent,
 * and Netty's embedded QUIC channels are in its unpublished test sources. So h3relay runs in this JVM (Jazzer
 * sees its coverage from the event-loop threads too) and each input is written on a new bidirectional stream of
 * one connection, with FIN, by a Netty QUIC client.
 *
 * <p>Every input ends with FIN, so h3relay has all of it at once: no timer is needed to end any stream, and the
 * head timeout is set far beyond the 10 s bound (a truncated HEADERS frame with FIN waited for that timeout).
 * For any input: the stream ends within 10 s (a response with FIN, a reset, or the connection closed by an
 * HTTP/3 connection error), what comes back is whole HTTP/3 frames starting with HEADERS, h3relay logs
 * nothing at WARN or ERROR (an exception that reached a pipeline's tail, an internal error), and after a
 * connection error a new connection is served.
 */
@Isolated
class Http3StreamFuzzTest {
    private static TestEndpoint endpoint;
    private static RelayHarness relay;
    private static RawQuicClient client;
    private static QuicChannel quic;
    private static ProxyLog log;

    private static synchronized void setUp() throws Exception {
        if (relay != null) {
            return;
        }
        endpoint = TestEndpoint.startUnrecorded("h3-fuzz", 0);
        relay = RelayHarness.singleCluster(endpoint.address(), "{ max_request_headers_size: 4KiB, request_headers_timeout: 60s }");
        client = new RawQuicClient("h3-fuzz-client");
        log = ProxyLog.install();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            client.close();
            relay.close();
            endpoint.close();
        }));
    }

    private static QuicChannel connection() throws Exception {
        if (quic == null || !quic.isActive()) {
            // A new connection after a connection error: h3relay must still take it.
            quic = client.connect(relay.tlsPort());
        }
        return quic;
    }

    /**
     * Writes one input of this target to a request stream (see {@link #anyRequestStreamIsAnsweredOrReset}: byte 0
     * cuts the rest into 1 to 4 writes, the last with FIN); returns the number of writes.
     */
    static int writeInput(RawHttp3Stream s, byte[] input) {
        byte[] stream = input.length == 0 ? input : java.util.Arrays.copyOfRange(input, 1, input.length);
        int writes = input.length == 0 ? 1 : 1 + (input[0] & 3);
        int step = Math.max(1, (stream.length + writes - 1) / writes);
        for (int at = 0; at < stream.length || at == 0; at += step) {
            int end = Math.min(stream.length, at + step);
            s.write(stream, at, end - at, end == stream.length);
            if (end == stream.length) {
                break;
            }
        }
        return writes;
    }

    /**
     * Byte 0: into how many writes the rest is cut (1 + its low 2 bits), each flushed on its own, the last
     * with FIN. The rest: the request stream's bytes.
     */
    @FuzzTest(maxDuration = "10m")
    void anyRequestStreamIsAnsweredOrReset(byte[] input) throws Exception {
        setUp();
        log.clear();
        QuicChannel q = connection();
        RawHttp3Stream s;
        try {
            s = RawHttp3Stream.open(q);
        } catch (java.util.concurrent.ExecutionException e) {
            // The connection closed under us (a previous input's connection error arriving late): retry once.
            quic = null;
            q = connection();
            s = RawHttp3Stream.open(q);
        }
        int writes = writeInput(s, input);
        String result;
        RawHttp3Stream.Outcome o = null;
        try {
            o = s.outcome().get(10, TimeUnit.SECONDS);
            result = o.answered() ? "response" : o.emptyFin() ? "empty"
                    : o.connectionOpen() ? "reset" : "connection closed";
        } catch (TimeoutException e) {
            s.channel().close();
            // A connection closed by an earlier input's connection error may still have looked open when this
            // stream was created on it; then nothing ever arrives on the stream. A hang is a stream of an open
            // connection that did not end.
            if (q.closeFuture().await(2, TimeUnit.SECONDS)) {
                result = "connection closed";
            } else {
                throw new AssertionError("the request stream did not end within 10 s (a hang)");
            }
        }
        if (result.equals("empty")) {
            // FIN without a byte: the stream end a connection close gives every stream, or a request the server
            // ended without any response, which must not happen (found once: headers-one-byte-field-section-found-1).
            assertThat(q.closeFuture().await(2, TimeUnit.SECONDS))
                    .as("a request stream ended (FIN) without a response on an open connection").isTrue();
            result = "connection closed";
        }
        if (System.getenv("JAZZER_FUZZ") == null) {
            System.out.printf("Http3StreamFuzzTest: %d bytes in %d writes -> %s%n", Math.max(0, input.length - 1),
                    writes, result);
        }
        if (result.equals("response")) {
            assertWholeFramesStartingWithHeaders(o.received());
        }
        if (!q.isActive()) {
            quic = null;
            connection(); // served again
        }
        assertThat(log.lines(5)).as("h3relay's WARN/ERROR log lines for this input (%s)", result).isEmpty();
    }

    private static void assertWholeFramesStartingWithHeaders(byte[] b) {
        int[] at = {0};
        boolean first = true;
        while (at[0] < b.length) {
            long type = varint(b, at);
            long length = varint(b, at);
            assertThat(length).as("frame length").isLessThanOrEqualTo(b.length - at[0]);
            if (first) {
                assertThat(type).as("first frame type (HEADERS)").isEqualTo(1);
                first = false;
            }
            at[0] += (int) length;
        }
        assertThat(first).as("no frame in a response").isFalse();
    }

    private static long varint(byte[] b, int[] at) {
        assertThat(at[0]).as("varint inside the stream").isLessThan(b.length);
        int first = b[at[0]] & 0xFF;
        int n = 1 << (first >> 6);
        assertThat(at[0] + n).as("varint inside the stream").isLessThanOrEqualTo(b.length);
        long v = first & 0x3F;
        for (int i = 1; i < n; i++) {
            v = (v << 8) | (b[at[0] + i] & 0xFF);
        }
        at[0] += n;
        return v;
    }
}
