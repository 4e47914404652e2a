package io.h3relay.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An upload to an endpoint that accepts the connection and never reads: the client must be held back by the
 * protocol's flow control (h1: TCP; h2: the stream's window, returned only as the proxy consumes; h3: QUIC's),
 * not let through into the proxy's memory. The client offers 256 MiB; once the endpoint's socket buffers and the
 * proxy's bounded buffers are full, what the client got to send stops growing, far below that.
 */
class UploadBackpressureTest {
    static final long OFFERED = 256L * 1024 * 1024;
    /** Windows, the proxy's buffers and the kernel's socket buffers on both sides: a few MiB; never the body. */
    static final long MAX_ACCEPTED = 32L * 1024 * 1024;

    static ServerSocket deaf;
    static final List<Socket> accepted = new CopyOnWriteArrayList<>();
    static RelayHarness relay;

    @BeforeAll
    static void start() throws IOException {
        deaf = new ServerSocket();
        deaf.setReceiveBufferSize(64 * 1024);
        deaf.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread.ofPlatform().daemon().name("deaf-endpoint").start(() -> {
            while (!deaf.isClosed()) {
                try {
                    accepted.add(deaf.accept()); // kept open, never read
                } catch (IOException e) {
                    return;
                }
            }
        });
        relay = RelayHarness.singleCluster("127.0.0.1:" + deaf.getLocalPort(), "{ max_request_body_size: 0 }");
    }

    @AfterAll
    static void stop() throws IOException {
        relay.close();
        deaf.close();
        for (Socket s : accepted) {
            s.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void anUploadToAnEndpointThatDoesNotReadIsHeldBackByFlowControl(Proto proto) throws Exception {
        AtomicLong taken = new AtomicLong();
        CompletableFuture<HttpResponse<String>> res = relay.client(proto).sendAsync(
                HttpRequest.newBuilder(relay.uri(proto, "/upload")).timeout(Duration.ofSeconds(60))
                        .POST(HttpRequest.BodyPublishers.fromPublisher(
                                HttpRequest.BodyPublishers.ofInputStream(() -> new Counting(taken)), OFFERED))
                        .build(), HttpResponse.BodyHandlers.ofString());
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> taken.get() > 0);
            // Settled: no growth over a second (the buffers along the way are full), checked for up to 15 s.
            long[] last = {-1};
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                long now = taken.get();
                boolean settled = now == last[0];
                last[0] = now;
                return settled || now > MAX_ACCEPTED;
            });
            assertThat(taken.get()).as("bytes the client got to send over %s", proto).isLessThan(MAX_ACCEPTED);
            assertThat(res).as("no response: the endpoint never answers").isNotDone();
        } finally {
            res.cancel(true);
        }
    }

    /** An endless body (up to {@link #OFFERED}), counting what the client read from it. */
    private static final class Counting extends InputStream {
        private final AtomicLong taken;

        Counting(AtomicLong taken) {
            this.taken = taken;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            long left = OFFERED - taken.get();
            if (left <= 0) {
                return -1;
            }
            int n = (int) Math.min(len, left);
            java.util.Arrays.fill(b, off, off + n, (byte) 'x');
            taken.addAndGet(n);
            return n;
        }
    }
}
