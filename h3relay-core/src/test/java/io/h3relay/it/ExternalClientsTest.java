package io.h3relay.it;

import io.h3relay.testing.Curl;
import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Clients we did not write: curl over h1 and h2 (TLS), h2c by prior knowledge and by Upgrade; nghttp.
 * Under CI=true a missing client fails the test (see {@link ExternalTool}).
 */
class ExternalClientsTest {
    static TestEndpoint endpoint;
    static RelayHarness relay;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start("ext");
        relay = RelayHarness.singleCluster(endpoint.address(), "{}");
    }

    @AfterAll
    static void stop() {
        relay.close();
        endpoint.close();
    }

    private Curl curl(String mode, String path) {
        return switch (mode) {
            case "h1-tls" -> Curl.to(relay.tlsUrl(path)).http1_1().cacert(RelayHarness.certs().caCertPath());
            case "h2-tls" -> Curl.to(relay.tlsUrl(path)).http2().cacert(RelayHarness.certs().caCertPath());
            case "h1-plain" -> Curl.to(relay.plainUrl(path)).http1_1();
            case "h2c-prior-knowledge" -> Curl.to(relay.plainUrl(path)).http2PriorKnowledge();
            case "h2c-upgrade" -> Curl.to(relay.plainUrl(path)).http2();
            default -> throw new IllegalArgumentException(mode);
        };
    }

    @ParameterizedTest
    @CsvSource({"h1-tls, 1.1, 1.1", "h2-tls, 2, 2", "h1-plain, 1.1, 1.1", "h2c-prior-knowledge, 2, 2",
            "h2c-upgrade, 2, 2"})
    void curlGetsThroughOnEveryMode(String mode, String curlVersion, String via) {
        Curl.Response res = curl(mode, "/headers").header("x-request-id", "curl-" + mode).execute();

        assertThat(res.exitCode()).as(res.stderr()).isZero();
        assertThat(res.status()).isEqualTo(200);
        assertThat(res.httpVersion()).isEqualTo(curlVersion);
        var seen = endpoint.lastRequest();
        assertThat(seen.header("x-request-id")).hasValue("curl-" + mode);
        assertThat(seen.header("via")).hasValue(via + " h3relay");
        assertThat(seen.header("x-forwarded-proto")).hasValue(mode.endsWith("tls") ? "https" : "http");
    }

    @ParameterizedTest
    @CsvSource({"h1-tls", "h2-tls", "h1-plain", "h2c-prior-knowledge"})
    void curlPostsABodyAndResponseTrailersArrive(String mode) {
        Curl.Response echo = curl(mode, "/echo").body("hello through h3relay".getBytes()).execute();
        assertThat(echo.status()).isEqualTo(200);
        assertThat(echo.bodyString()).isEqualTo("hello through h3relay");

        Curl.Response trailers = curl(mode, "/trailers").execute();
        assertThat(trailers.exitCode()).as(trailers.stderr()).isZero();
        assertThat(trailers.bodyString()).isEqualTo("body with trailers\n");
        assertThat(trailers.trailer("x-trailer-a")).hasValue("1");
        assertThat(trailers.trailer("x-trailer-b")).hasValue("two");
    }

    @ParameterizedTest
    @CsvSource({"h1-tls", "h2-tls", "h1-plain", "h2c-prior-knowledge"})
    void hopByHopHeadersAreNotForwarded(String mode) {
        Curl c = curl(mode, "/headers").header("x-keep", "yes").header("proxy-authorization", "Basic eA==");
        if (mode.startsWith("h1")) {
            c.header("Connection", "x-hop").header("x-hop", "secret").header("keep-alive", "timeout=5");
        }
        Curl.Response res = c.execute();

        assertThat(res.status()).isEqualTo(200);
        var seen = endpoint.lastRequest();
        assertThat(seen.header("x-keep")).hasValue("yes");
        assertThat(seen.header("proxy-authorization")).isEmpty();
        assertThat(seen.header("x-hop")).isEmpty();
        assertThat(seen.header("keep-alive")).isEmpty();
        assertThat(seen.header("connection").orElse("")).doesNotContain("x-hop");
    }

    @Test
    void nghttpOverTls() {
        var nghttp = ExternalTool.require("nghttp");
        ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(20), nghttp.toString(), "-v", "-n",
                "-H", "x-request-id: nghttp-1", relay.tlsUrl("/bytes?n=100000"));

        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdoutString()).contains(":status: 200", "SETTINGS_MAX_CONCURRENT_STREAMS(0x03):256");
        assertThat(endpoint.lastRequest().header("x-request-id")).hasValue("nghttp-1");
    }

    @Test
    void nghttpOverCleartextPriorKnowledgeAndUpgrade() {
        var nghttp = ExternalTool.require("nghttp");
        for (String upgrade : new String[] {"", "-u"}) {
            var cmd = new java.util.ArrayList<>(java.util.List.of(nghttp.toString(), "-v", "-n"));
            if (!upgrade.isEmpty()) {
                cmd.add(upgrade);
            }
            cmd.add(relay.plainUrl("/headers"));
            ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(20), cmd);
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            assertThat(r.stdoutString()).contains(":status: 200");
            assertThat(endpoint.lastRequest().header("via")).hasValue("2 h3relay");
        }
    }
}
