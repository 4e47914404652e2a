package io.h3relay.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static io.h3relay.cli.ClientFixture.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code h3relay bench} through h3relay on h1, h2 and h3: counts are checked at the endpoint (what
 * arrived there), not only in bench's own report.
 */
@org.junit.jupiter.api.parallel.Isolated("holds a request rate to +-5%: another class competing for the CPU stalls the generator")
class BenchCommandTest {
    static ClientFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = new ClientFixture();
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"--http1.1", "--http2", "--http3"})
    void sendsExactlyNRequests(String flag) {
        int before = fx.endpoint.requestCount();
        ClientFixture.Run r = run("bench", flag, "--cacert", fx.ca(), "-n", "300", "-c", "3", "-m", "8", "--json", fx.url("/"));
        assertThat(r.exit()).as(r.err() + r.out()).isZero();
        assertThat(fx.endpoint.requestCount() - before).isEqualTo(300);
        assertThat(r.json("requests")).isEqualTo(300);
        assertThat(r.json("ok")).isEqualTo(300);
        assertThat(r.json("error_count")).isZero();
        assertThat(r.json("body_bytes")).isEqualTo(300L * "endpoint cli".length());
        String proto = switch (flag) {
            case "--http1.1" -> "h1";
            case "--http2" -> "h2";
            default -> "h3";
        };
        assertThat(r.out()).contains("\"protocol\":\"" + proto + "\"")
                .containsPattern("\"latency_ms\":\\{\"p50\":[0-9.]+,\"p90\":[0-9.]+,\"p99\":[0-9.]+,\"p99_9\":[0-9.]+,\"max\":[0-9.]+");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--http1.1", "--http2", "--http3"})
    void countsResetsAsErrors(String flag) {
        int before = fx.endpoint.requestCount();
        ClientFixture.Run r = run("bench", flag, "-k", "-n", "60", "-c", "2", "-m", "4", "--json", fx.url("/reset"));
        assertThat(r.exit()).as(r.err() + r.out()).isEqualTo(ExitCodes.BENCH_ERRORS);
        // The proxy turns each reset into a 502: a response, counted as an error by its status.
        assertThat(r.out()).contains("\"errors\":{\"status_502\":60}");
        assertThat(r.json("ok")).isZero();
        // At least 60 arrived: the proxy may try a request again when a reused upstream connection resets.
        assertThat(fx.endpoint.requestCount() - before).isGreaterThanOrEqualTo(60);
    }

    @Test
    void countsResetsOfTheEndpointItself() {
        int before = fx.endpoint.requestCount();
        ClientFixture.Run r = run("bench", "-n", "50", "-c", "2", "--json", fx.endpoint.baseUrl() + "/reset");
        assertThat(r.exit()).as(r.err() + r.out()).isEqualTo(ExitCodes.BENCH_ERRORS);
        assertThat(r.json("error_count")).isEqualTo(50);
        assertThat(r.json("requests")).isEqualTo(50);
        assertThat(r.json("connects")).isGreaterThanOrEqualTo(50); // each reset costs a connection
        assertThat(fx.endpoint.requestCount() - before).isEqualTo(50);
    }

    @ParameterizedTest
    @ValueSource(strings = {"--http1.1", "--http2", "--http3"})
    void holdsTheRate(String flag) {
        // 150 req/s for 3 s after 1 s of warm-up: the endpoint must see 600 requests (+-5%) in all.
        int before = fx.endpoint.requestCount();
        ClientFixture.Run r = run("bench", flag, "-k", "--rate", "150", "--warmup", "1s", "-d", "3s", "-c", "4", "--json", fx.url("/"));
        assertThat(r.exit()).as(r.err() + r.out()).isZero();
        assertThat(fx.endpoint.requestCount() - before).isBetween(570, 630);
        assertThat(r.json("requests")).isBetween(427L, 473L);
        assertThat(r.out()).contains("\"coordinated_omission_corrected\":true");
    }

    @Test
    void http3ExitCodesAndAReportWithoutOkResponses() throws Exception {
        assertThat(run("bench", "--http3", "-n", "5", "http://127.0.0.1:1/").exit()).isEqualTo(ExitCodes.USAGE);
        ClientFixture.Run silent = run("bench", "-k", "--http3", "--timeout", "1s", "-n", "5", "-c", "2",
                "https://127.0.0.1:" + RequestCommandTest.silentUdpPort() + "/");
        assertThat(silent.exit()).as(silent.err() + silent.out()).isEqualTo(ExitCodes.CONNECT);
        assertThat(silent.err()).contains("no connection to");
        // Every request fails (the proxy answers 502 for the endpoint's resets): no latency to report.
        ClientFixture.Run failed = run("bench", "-k", "--http3", "-n", "6", "-c", "1", fx.url("/reset"));
        assertThat(failed.exit()).as(failed.err() + failed.out()).isEqualTo(ExitCodes.BENCH_ERRORS);
        assertThat(failed.out()).contains("requests:   6 (0 ok, 6 errors)", "latency:    none (no ok response)")
                .doesNotContain("NaN");
    }

    @Test
    void textReportAndUsageErrors() {
        ClientFixture.Run r = run("bench", "-k", "--http2", "-n", "20", "-c", "1", "-m", "2", fx.url("/"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("h2, 1 connections x 2 streams", "requests:   20 (20 ok, 0 errors)", "req/s:", "bytes/s:")
                .containsPattern("latency: +p50 [0-9.]+ ms p90 [0-9.]+ ms p99 [0-9.]+ ms p99.9 [0-9.]+ ms +max");
        assertThat(run("bench", "-n", "5", "-d", "1s", fx.url("/")).exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(run("bench", "-d", "ten", fx.url("/")).exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(run("bench", "-c", "0", fx.url("/")).exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(run("bench", "-n", "5", fx.url("/")).exit()).isEqualTo(ExitCodes.TLS);
    }
}
