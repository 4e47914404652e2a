package io.h3relay.it;

import io.h3relay.testing.BodyPattern;
import io.h3relay.testing.TestEndpoint;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 100 MiB bodies through the proxy, both ways, on h1 and h2, with the proxy's pooled direct memory
 * sampled during the transfer: it must stay far below the body size, i.e. the proxy never held a
 * whole body. The proxy runs in this JVM and is the only user of the pooled allocator here.
 */
@org.junit.jupiter.api.parallel.Isolated("samples the JVM's pooled direct memory during transfers")
class LargeBodyTest {
    static final long SIZE = 100L * 1024 * 1024;
    /** Far below 100 MiB: a few pool chunks' worth, whatever the transfer speed. */
    static final long MAX_DIRECT = 48L * 1024 * 1024;

    static TestEndpoint endpoint;
    static RelayHarness relay;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start("large");
        relay = RelayHarness.singleCluster(endpoint.address(), "{ max_request_body_size: 0 }");
    }

    @AfterAll
    static void stop() {
        relay.close();
        endpoint.close();
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void uploadsStreamWithBoundedMemory(Proto proto) throws Exception {
        try (MemoryProbe probe = new MemoryProbe()) {
            HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/sink"))
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> BodyPattern.inputStream(SIZE))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.body()).contains("\"bytes\":" + SIZE).contains(BodyPattern.sha256Hex(SIZE));
            // > 0: the proxy's buffers are the ones counted, so the bound below means something.
            assertThat(probe.max()).as("peak pooled direct memory during the upload").isPositive().isLessThan(MAX_DIRECT);
        }
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void downloadsStreamWithBoundedMemoryEvenWhenTheClientStalls(Proto proto) throws Exception {
        try (MemoryProbe probe = new MemoryProbe()) {
            HttpResponse<InputStream> res = relay.client(proto).send(HttpRequest.newBuilder(
                    relay.uri(proto, "/bytes?n=" + SIZE)).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(res.statusCode()).isEqualTo(200);
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[64 * 1024];
            long total = 0;
            boolean stalled = false;
            try (InputStream in = res.body()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    sha.update(buf, 0, n);
                    total += n;
                    if (!stalled && total > 8 * 1024 * 1024) {
                        // The endpoint could send the rest in this time; backpressure must hold it back.
                        Thread.sleep(1500);
                        stalled = true;
                    }
                }
            }
            assertThat(total).isEqualTo(SIZE);
            assertThat(HexFormat.of().formatHex(sha.digest())).isEqualTo(BodyPattern.sha256Hex(SIZE));
            assertThat(probe.max()).as("peak pooled direct memory during the download").isPositive().isLessThan(MAX_DIRECT);
        }
    }

    /** Samples the pooled allocator's direct memory in use every few milliseconds. */
    static final class MemoryProbe implements AutoCloseable {
        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        private final AtomicLong max = new AtomicLong();

        MemoryProbe() {
            timer.scheduleAtFixedRate(() -> max.accumulateAndGet(
                    PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory(), Math::max), 0, 5, TimeUnit.MILLISECONDS);
        }

        long max() {
            return max.get();
        }

        @Override
        public void close() {
            timer.shutdownNow();
        }
    }
}
