package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Endpoints that misbehave ({@link ChaosUpstream}: stall, reset, garbage, a wrong Content-Length either way,
 * a close in the middle of a chunk, a bad chunk, 1xx storms), on h1, h2 and h3. Each has an exact outcome
 * per protocol: an error status with the envelope when nothing was sent to the client yet, a failed
 * transfer (the client sees a reset or a cut connection, never a complete-looking body) once the head went
 * out, or the endpoint's 200 with exactly its declared body. No truncated body is reported as a success, and
 * the proxy serves the next request.
 */
class ChaosTest {
    private static ChaosUpstream upstream;
    private static RelayHarness relay;

    /**
     * The stalling endpoints end at the route timeout: 1 s on their route (six cases wait for it), 3 s for
     * the rest (room for a loaded machine; none of them should wait).
     */
    @BeforeAll
    static void start() {
        upstream = ChaosUpstream.start();
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: stall, match: { path_prefix: /stall }, cluster: c, timeout: 1s }
                  - { name: all, match: { path_prefix: / }, cluster: c, timeout: 3s }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                """).with("LIMITS", "{}").with("EP", upstream.address()).start();
    }

    @AfterAll
    static void stop() {
        relay.close();
        upstream.close();
    }

    /** @param expected the outcome on every protocol: "200 BODY", "STATUS code", or "failed" */
    record Chaos(String path, String expected) {
        @Override
        public String toString() {
            return path;
        }
    }

    static Stream<Chaos> chaos() {
        return Stream.of(
                new Chaos("/ok", "200 hello"),
                new Chaos("/stall", "failed"),
                new Chaos("/stall-head", "504 upstream_timeout"),
                new Chaos("/reset", "502 upstream_reset"),
                new Chaos("/garbage", "502 upstream_bad_response"),
                new Chaos("/short", "failed"),
                new Chaos("/long", "200 hello"),
                new Chaos("/mid-chunk", "failed"),
                new Chaos("/bad-chunk", "failed"),
                new Chaos("/1xx", "200 hello"),
                new Chaos("/1xx-some", "200 hello"),
                new Chaos("/1xx-storm", "502 upstream_bad_response"),
                new Chaos("/1xx-forever", "502 upstream_bad_response"));
    }

    static Stream<Arguments> cases() {
        return chaos().flatMap(c -> Stream.of(Proto.H1, Proto.H2, Proto.H3).map(p -> Arguments.of(p, c)));
    }

    @ParameterizedTest(name = "[{index}] {0} {1}")
    @MethodSource("cases")
    void misbehavingEndpoint(Proto proto, Chaos c) throws Exception {
        long t0 = System.nanoTime();
        String outcome = outcome(proto, c.path());
        System.out.printf("ChaosTest: %s %s -> %s (%d ms)%n", proto, c.path(), outcome,
                (System.nanoTime() - t0) / 1_000_000);
        assertThat(outcome(proto, "/ok")).as("served afterwards").isEqualTo("200 hello");
        assertThat(outcome).isEqualTo(c.expected());
    }

    private static String outcome(Proto proto, String path) throws InterruptedException {
        try {
            // sendAsync with a bound: the h3 test client does not apply HttpRequest.timeout by itself.
            HttpResponse<String> res = relay.client(proto).sendAsync(HttpRequest.newBuilder(relay.uri(proto, path))
                    .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString())
                    .get(20, TimeUnit.SECONDS);
            if (res.statusCode() == 200) {
                return "200 " + res.body();
            }
            return res.statusCode() + " " + Envelope.code(res.body());
        } catch (ExecutionException e) {
            return "failed"; // reset, cut connection, malformed response: the client knows it failed
        } catch (TimeoutException e) {
            return "no end within 20 s";
        }
    }
}
