package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.testing.Http3TestClient;
import io.h3relay.testing.TestEndpoint;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * h3 over an impaired path ({@link UdpImpairment}: loss, duplication, delay with jitter, so reordering):
 * a download and an upload through the proxy arrive byte-exact (SHA-256 of the whole body on the other
 * side), or the request fails: never a shorter body reported as a success.
 */
class LossyHttp3Test {
    private static final int DOWNLOAD = 1 << 20;
    private static final int UPLOAD = 512 << 10;

    private static TestEndpoint endpoint;
    private static RelayHarness relay;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start("lossy");
        relay = RelayHarness.singleCluster(endpoint.address(), "{}");
    }

    @AfterAll
    static void stop() {
        relay.close();
        endpoint.close();
    }

    static Stream<UdpImpairment.Settings> paths() {
        return Stream.of(
                new UdpImpairment.Settings(0.05, 0, 0, 0, 1),
                new UdpImpairment.Settings(0.20, 0, 0, 0, 2),
                new UdpImpairment.Settings(0, 0, 2, 20, 3),        // reordering: 2-22 ms per datagram
                new UdpImpairment.Settings(0, 0, 50, 0, 4),        // 100 ms round trip
                new UdpImpairment.Settings(0, 0.10, 0, 0, 5),      // duplicates
                new UdpImpairment.Settings(0.10, 0.05, 5, 15, 6)); // all at once
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("paths")
    void downloadAndUploadAreByteExact(UdpImpairment.Settings s) throws Exception {
        try (UdpImpairment path = new UdpImpairment(new InetSocketAddress("127.0.0.1", relay.tlsPort()), s);
             Http3TestClient client = new Http3TestClient(RelayHarness.certs().caCert())) {
            String base = "https://localhost:" + path.port();
            long t0 = System.nanoTime();
            HttpResponse<byte[]> down = client.send(HttpRequest.newBuilder(URI.create(base + "/bytes?n=" + DOWNLOAD))
                    .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(down.statusCode()).isEqualTo(200);
            assertThat(down.body()).hasSize(DOWNLOAD);
            assertThat(sha256(down.body())).isEqualTo(TestEndpoint.expectedSha256(DOWNLOAD));

            byte[] body = new byte[UPLOAD];
            new Random(s.seed()).nextBytes(body);
            HttpResponse<String> up = client.send(HttpRequest.newBuilder(URI.create(base + "/sink"))
                    .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(up.statusCode()).isEqualTo(200);
            assertThat(up.body()).contains("\"bytes\":" + UPLOAD).contains(sha256(body));
            System.out.printf("LossyHttp3Test: %s: 1 MiB down + 512 KiB up byte-exact in %d ms "
                    + "(datagrams delivered %d, dropped %d, duplicated %d)%n", s, (System.nanoTime() - t0) / 1_000_000,
                    path.delivered.get(), path.dropped.get(), path.duplicated.get());
            if (s.loss() > 0) {
                assertThat(path.dropped.get()).as("the path did drop datagrams").isPositive();
            }
        }
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
