package io.h3relay.cli;

import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.TestCertificates;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code h3relay serve} as a process under load, h2load over h2 and {@code h3relay bench} over h3, while the
 * config file changes routes and endpoints five times, each followed by SIGHUP: no request fails, no
 * connection is closed by h3relay (each client opened exactly its connections: h2load's two TCP connections
 * and bench's two QUIC connections are the only ones the proxy counted), and each new route answers within
 * one second of its signal. A sixth, invalid file is rejected under the same load and the old config serves on.
 */
@org.junit.jupiter.api.parallel.Isolated("each reload must answer within 1 s while h2load and bench load the machine: another class competing for the CPU adds to it")
class ReloadUnderLoadTest {
    @TempDir
    Path dir;

    private static String config(TestCertificates certs, int generation, List<TestEndpoint> endpoints) {
        StringBuilder routes = new StringBuilder();
        for (int i = 1; i <= generation; i++) {
            // Answered by the route itself (its name as the body): the catch-all below would answer /rN with 200
            // before the reload too, and the probe could not tell.
            routes.append("  - { name: r").append(i).append(", match: { path_prefix: /r").append(i)
                    .append(" }, respond: { status: 200, body: r").append(i).append(" } }\n");
        }
        // The load's cluster changes every time: endpoints come and go (it is rebuilt, the old one retires).
        StringBuilder eps = new StringBuilder();
        int count = 1 + generation % endpoints.size();
        for (int i = 0; i < count; i++) {
            eps.append(i == 0 ? "" : ", ").append("{ address: \"").append(endpoints.get(i).address()).append("\" }");
        }
        return """
                admin: { address: 127.0.0.1:0 }
                listeners:
                  - name: web
                    address: 127.0.0.1:0
                    protocols: [http1, http2, http3]
                    tls: { certificate: "%s", private_key: "%s" }
                routes:
                %s  - { name: all, match: { path_prefix: / }, cluster: main }
                clusters:
                  - name: main
                    endpoints: [ %s ]
                shutdown: { drain_delay: 0s, drain_timeout: 2s }
                observability: { logging: { level: info } }
                """.formatted(certs.certPath(), certs.keyPath(), routes, eps);
    }

    @Test
    void fiveSighupReloadsUnderH2AndH3LoadFailNothingAndCloseNoConnection() throws Exception {
        Path h2load = ExternalTool.require("h2load");
        TestCertificates certs = TestCertificates.create(dir.resolve("certs"), "localhost", "127.0.0.1");
        List<TestEndpoint> endpoints = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            endpoints.add(TestEndpoint.startUnrecorded("e" + i, 0));
        }
        Path file = dir.resolve("h3relay.yaml");
        Files.writeString(file, config(certs, 0, endpoints));
        try (CliProcess relay = CliProcess.start(dir, "serve", "-c", file.toString());
             HttpClient probe = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                     .sslContext(certs.trustingSslContext()).connectTimeout(Duration.ofSeconds(2)).build()) {
            String port = relay.awaitLine("listener web on /127\\.0\\.0\\.1:(\\d+)", Duration.ofSeconds(30));
            String adminPort = relay.awaitLine("admin on /127\\.0\\.0\\.1:(\\d+)", Duration.ofSeconds(10));
            String url = "https://127.0.0.1:" + port + "/";

            CompletableFuture<ExternalTool.Result> h2 = CompletableFuture.supplyAsync(() -> ExternalTool.run(
                    Duration.ofSeconds(60), h2load.toString(), "-c", "2", "-m", "4", "-D", "10", url));
            CompletableFuture<CliProcess> h3 = CompletableFuture.supplyAsync(() -> {
                try {
                    return CliProcess.start(dir, "bench", "-k", "--http3", "-c", "2", "-m", "4", "-d", "10s",
                            "--json", url);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            CliProcess bench = h3.get();
            // The probe's connection is open before the first signal, so its handshake is not timed.
            assertThat(probe.send(HttpRequest.newBuilder(URI.create(url + "warm")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
            try {
                Thread.sleep(1500); // let both loads run before the first change (nothing to poll for)
                for (int generation = 1; generation <= 5; generation++) {
                    Files.writeString(file, config(certs, generation, endpoints));
                    long signalled = System.nanoTime();
                    relay.sighup();
                    URI route = URI.create("https://127.0.0.1:" + port + "/r" + generation + "/x");
                    long answeredAfterMillis = -1;
                    while (System.nanoTime() - signalled < 3_000_000_000L) {
                        HttpResponse<String> r = probe.send(HttpRequest.newBuilder(route).build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() == 200 && r.body().equals("r" + generation)) {
                            answeredAfterMillis = (System.nanoTime() - signalled) / 1_000_000;
                            break;
                        }
                        Thread.sleep(20);
                    }
                    assertThat(answeredAfterMillis).as("route /r%d answered after SIGHUP, ms; output:%n%s", generation,
                                    relay.output())
                            .isBetween(0L, 1000L);
                    relay.awaitLine("generation " + (generation + 1) + "\\)", Duration.ofSeconds(10));
                    Thread.sleep(800); // load keeps running between changes
                }

                // An invalid file under load: rejected, logged with its line, the running config still serves.
                Files.writeString(file, config(certs, 5, endpoints).replace("cluster: main }", "cluster: nosuch }"));
                relay.sighup();
                relay.awaitLine("SIGHUP: config rejected: .*line \\d+: routes\\[5\\]\\.cluster", Duration.ofSeconds(5));
                assertThat(probe.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/r5/x")).build(),
                        HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("r5");

                ExternalTool.Result h2Result = h2.get();
                String h2Out = h2Result.stdoutString();
                assertThat(h2Result.exitCode()).as(h2Out).isZero();
                Matcher m = Pattern.compile("requests: (\\d+) total, \\d+ started, (\\d+) done, (\\d+) succeeded, "
                        + "(\\d+) failed, (\\d+) errored, (\\d+) timeout").matcher(h2Out);
                assertThat(m.find()).as(h2Out).isTrue();
                assertThat(Long.parseLong(m.group(3))).as("h2 requests succeeded").isPositive();
                assertThat(m.group(4) + "/" + m.group(5) + "/" + m.group(6)).as("h2 failed/errored/timeout: " + h2Out)
                        .isEqualTo("0/0/0");
                // Only 2xx; with -D (timed) h2load counts the status of a response whose end came after the
                // deadline too, so the 2xx count may pass the succeeded count by the requests in flight.
                Matcher codes = Pattern.compile("status codes: (\\d+) 2xx, 0 3xx, 0 4xx, 0 5xx").matcher(h2Out);
                assertThat(codes.find()).as(h2Out).isTrue();
                assertThat(Long.parseLong(codes.group(1))).as(h2Out).isBetween(Long.parseLong(m.group(3)),
                        Long.parseLong(m.group(3)) + 8);

                assertThat(bench.awaitExit(Duration.ofSeconds(40))).as(bench.output()).isZero();
                String json = bench.output();
                assertThat(json).contains("\"error_count\":0", "\"connects\":2");
                assertThat(Long.parseLong(json.replaceFirst("(?s).*\"ok\":(\\d+).*", "$1"))).isPositive();

                // Count connects at the proxy: the h2 client's 2 and the h3 client's 2, plus the probe's h1 ones.
                HttpClient plain = HttpClient.newHttpClient();
                String metrics = plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort
                        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
                assertThat(metrics).contains("h3relay_downstream_connections_total{listener=\"web\",protocol=\"h2\"} 2.0",
                        "h3relay_downstream_connections_total{listener=\"web\",protocol=\"h3\"} 2.0",
                        "h3relay_config_reloads_total{result=\"applied\"} 5.0",
                        "h3relay_config_reloads_total{result=\"rejected\"} 1.0");
                plain.close();
            } finally {
                bench.close();
            }
            relay.sigterm();
            assertThat(relay.awaitExit(Duration.ofSeconds(15))).isZero();
        } finally {
            endpoints.forEach(TestEndpoint::close);
        }
    }
}
