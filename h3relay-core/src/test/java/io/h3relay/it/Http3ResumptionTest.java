package io.h3relay.it;

import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.RecordedRequest;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Session resumption and 0-RTT with a client we did not write: ngtcp2's {@code gtlsclient} saves the TLS session
 * and the transport parameters of a first connection ({@code --session-file}/{@code --tp-file}) and, on a
 * second run, resumes and sends its request in 0-RTT early data. RFC 8470 through h3relay: an early GET reaches
 * the endpoint with {@code Early-Data: 1}; an early POST is answered 425 ({@code zero_rtt_unsafe: reject}) or
 * held until the handshake completes and then forwarded without the header ({@code wait}). The metrics count
 * resumed handshakes and early-data requests by outcome. Retry is off: quiche sends no NEW_TOKEN, so with
 * Retry on every connection (resumed or not) first gets a Retry, and the 0-RTT packets sent before it are
 * dropped and sent again after it (also tested).
 */
class Http3ResumptionTest {
    @TempDir
    Path tmp;

    private static RelayHarness start(TestEndpoint endpoint, String http3) {
        return RelayHarness.yaml(RelayHarness.LISTENERS.replace("protocols: [http1, http2, http3]",
                "protocols: [http1, http2, http3]\n    http3: " + http3) + """
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                """).with("LIMITS", "{}").with("EP", endpoint.address()).start();
    }

    private ExternalTool.Result gtls(RelayHarness relay, String path, String... options) throws Exception {
        Path exe = ExternalTool.require("gtlsclient");
        int port = relay.tlsPort();
        List<String> cmd = new ArrayList<>(List.of(exe.toString(), "--exit-on-all-streams-close", "--no-quic-dump",
                "--timeout=10s", "--session-file=" + tmp.resolve("session"), "--tp-file=" + tmp.resolve("tp")));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("--sni=localhost", "127.0.0.1", String.valueOf(port), "https://localhost:" + port + path));
        return ExternalTool.run(Duration.ofSeconds(30), cmd);
    }

    private static double metric(RelayHarness relay, String family, Map<String, String> labels) throws Exception {
        return MetricsScrape.of(relay).value(family, labels);
    }

    private static Optional<RecordedRequest> seen(TestEndpoint endpoint, String path) {
        return endpoint.requests().stream().filter(r -> r.path().equals(path)).findFirst();
    }

    private static String out(ExternalTool.Result r) {
        return r.stderr() + r.stdoutString();
    }

    @Test
    void aResumedClientsEarlyGetArrivesWithEarlyDataAndItsEarlyPostGets425() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("zrtt");
             RelayHarness relay = start(endpoint, "{ zero_rtt: true, retry: false }")) {
            ExternalTool.Result first = gtls(relay, "/first");
            assertThat(first.exitCode()).as(out(first)).isZero();
            assertThat(tmp.resolve("session")).isNotEmptyFile();
            assertThat(seen(endpoint, "/first")).get().satisfies(r -> assertThat(r.header("early-data")).isEmpty());

            ExternalTool.Result second = gtls(relay, "/early");
            assertThat(second.exitCode()).as(out(second)).isZero();
            assertThat(seen(endpoint, "/early")).as(out(second)).get()
                    .satisfies(r -> assertThat(r.header("early-data")).contains("1"));
            assertThat(metric(relay, "h3relay_quic_resumed_handshakes_total", Map.of("listener", "tls")))
                    .isGreaterThanOrEqualTo(1);
            assertThat(metric(relay, "h3relay_quic_early_data_requests_total",
                    Map.of("listener", "tls", "outcome", "forwarded"))).isEqualTo(1);

            ExternalTool.Result post = gtls(relay, "/early-post", "-m", "POST");
            assertThat(out(post)).as("425 to the client").contains(":status: 425");
            assertThat(seen(endpoint, "/early-post")).as("never forwarded").isEmpty();
            assertThat(metric(relay, "h3relay_quic_early_data_requests_total",
                    Map.of("listener", "tls", "outcome", "rejected"))).isEqualTo(1);
        }
    }

    @Test
    void waitHoldsAnEarlyPostUntilTheHandshakeCompletes() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("zrtt");
             RelayHarness relay = start(endpoint, "{ zero_rtt: true, zero_rtt_unsafe: wait, retry: false }")) {
            assertThat(gtls(relay, "/first").exitCode()).isZero();
            ExternalTool.Result post = gtls(relay, "/held-post", "-m", "POST");

            assertThat(post.exitCode()).as(out(post)).isZero();
            assertThat(out(post)).contains(":status: 200");
            assertThat(seen(endpoint, "/held-post")).as(out(post)).get().satisfies(r -> {
                assertThat(r.method()).isEqualTo("POST");
                assertThat(r.header("early-data")).as("forwarded after the handshake: not early").isEmpty();
            });
            assertThat(metric(relay, "h3relay_quic_early_data_requests_total",
                    Map.of("listener", "tls", "outcome", "held"))).isEqualTo(1);
        }
    }

    /** With Retry on, 0-RTT still works: the client sends its early data again after the Retry. */
    @Test
    void earlyDataSurvivesRetry() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("zrtt");
             RelayHarness relay = start(endpoint, "{ zero_rtt: true }")) {
            assertThat(gtls(relay, "/first").exitCode()).isZero();
            ExternalTool.Result second = gtls(relay, "/early");
            assertThat(second.exitCode()).as(out(second)).isZero();
            assertThat(seen(endpoint, "/early")).as(out(second)).get()
                    .satisfies(r -> assertThat(r.header("early-data")).contains("1"));
        }
    }

    /** zero_rtt off (the default): the session still resumes, the request waits for the handshake. */
    @Test
    void withoutZeroRttSessionsResumeButNothingIsEarly() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("zrtt");
             RelayHarness relay = start(endpoint, "{ retry: false }")) {
            assertThat(gtls(relay, "/first").exitCode()).isZero();
            ExternalTool.Result second = gtls(relay, "/second");
            assertThat(second.exitCode()).as(out(second)).isZero();
            assertThat(seen(endpoint, "/second")).get().satisfies(r -> assertThat(r.header("early-data")).isEmpty());
            assertThat(metric(relay, "h3relay_quic_resumed_handshakes_total", Map.of("listener", "tls")))
                    .isGreaterThanOrEqualTo(1);
            assertThat(Files.exists(tmp.resolve("session"))).isTrue();
        }
    }

    private double resumed(RelayHarness relay) throws Exception {
        return metric(relay, "h3relay_quic_resumed_handshakes_total", Map.of("listener", "tls"));
    }

    /** Two instances given the same http3.ticket_key_file resume each other's sessions; with their own keys, not. */
    @Test
    void instancesSharingATicketKeyFileResumeEachOthersSessions() throws Exception {
        Path keys = tmp.resolve("tickets.keys");
        byte[] k = new byte[48];
        java.util.concurrent.ThreadLocalRandom.current().nextBytes(k);
        Files.writeString(keys, "# session ticket keys\n" + java.util.Base64.getEncoder().encodeToString(k) + "\n");
        String shared = "{ retry: false, ticket_key_file: \"" + keys + "\" }";
        try (TestEndpoint endpoint = TestEndpoint.start("zrtt");
             RelayHarness a = start(endpoint, shared);
             RelayHarness b = start(endpoint, shared);
             RelayHarness other = start(endpoint, "{ retry: false }")) {
            assertThat(gtls(a, "/on-a").exitCode()).isZero();
            assertThat(resumed(a)).isZero();
            assertThat(gtls(b, "/on-b").exitCode()).isZero();
            assertThat(resumed(b)).as("a's ticket resumed on b").isEqualTo(1);
            assertThat(gtls(other, "/on-other").exitCode()).isZero();
            assertThat(resumed(other)).as("other keys: full handshake").isZero();
        }
    }

    /** Generated keys: a rotation keeps the previous key for decryption; two rotations retire it. */
    @Test
    void rotatedOutKeysNoLongerResume() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("zrtt");
             RelayHarness relay = start(endpoint, "{ retry: false }");
             java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
            java.net.URI rotate = java.net.URI.create("http://127.0.0.1:" + relay.server().adminAddress().getPort()
                    + "/quic/ticket-keys/rotate");
            java.net.http.HttpRequest post = java.net.http.HttpRequest.newBuilder(rotate)
                    .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build();
            assertThat(gtls(relay, "/first").exitCode()).isZero();
            Files.copy(tmp.resolve("session"), tmp.resolve("session-first")); // the ticket of the first key
            assertThat(http.send(post, java.net.http.HttpResponse.BodyHandlers.ofString()).body()).contains("\"tls\"");
            assertThat(gtls(relay, "/after-one").exitCode()).isZero();
            assertThat(resumed(relay)).as("previous key still decrypts").isEqualTo(1);

            http.send(post, java.net.http.HttpResponse.BodyHandlers.ofString());
            http.send(post, java.net.http.HttpResponse.BodyHandlers.ofString());
            Files.copy(tmp.resolve("session-first"), tmp.resolve("session"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            assertThat(gtls(relay, "/after-three").exitCode()).isZero();
            assertThat(resumed(relay)).as("the first key is gone: full handshake").isEqualTo(1);
        }
    }
}
