package io.h3relay.it;

import io.h3relay.cluster.Cluster;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Reloading the config file ({@code POST /config/reload}, {@code admin.watch_config}) and {@code PUT /config}
 * over real sockets: a valid file is applied (new routes answer on h1, h2 and h3), an invalid one is
 * rejected with its errors and line numbers while the old config keeps serving, one that needs a restart is
 * refused naming the setting; every attempt is counted in {@code h3relay_config_reloads_total{result}} and
 * published on {@code GET /events}. Endpoint health carries over a rebuild of its cluster.
 */
class ConfigReloadTest {
    private static final String BASE = RelayHarness.LISTENERS + """
            routes:
              - { name: a, match: { path_prefix: /a }, cluster: one }
            @MORE_ROUTES@
            clusters:
              - name: one
                endpoints: [ { address: "@ONE@" } ]
              - name: two
                endpoints: [ { address: "@TWO@" } ]
            """;

    @TempDir
    Path dir;
    TestEndpoint one;
    TestEndpoint two;
    RelayHarness relay;
    Path file;
    HttpClient admin;

    @BeforeEach
    void start() {
        one = TestEndpoint.start("one");
        two = TestEndpoint.start("two");
        file = dir.resolve("h3relay.yaml");
        admin = HttpClient.newHttpClient();
    }

    @AfterEach
    void stop() {
        if (relay != null) {
            relay.close();
        }
        admin.close();
        one.close();
        two.close();
    }

    private RelayHarness.Builder config(String moreRoutes) {
        return RelayHarness.yaml(BASE).with("LIMITS", "{}").with("MORE_ROUTES", moreRoutes)
                .with("ONE", one.address()).with("TWO", two.address());
    }

    private HttpResponse<String> adminCall(String method, String path, String body, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + relay.server().adminAddress().getPort() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return admin.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private double reloads(String result) {
        return relay.server().telemetry().sum("h3relay_config_reloads", Map.of("result", result));
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void aReloadedFileIsAppliedAndItsNewRouteAnswers(Proto proto) throws Exception {
        relay = config("").startFrom(file);
        HttpClient client = relay.client(proto);
        assertThat(client.send(HttpRequest.newBuilder(relay.uri(proto, "/b")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);

        Files.writeString(file, config("  - { name: b, match: { path_prefix: /b }, cluster: two }").text());
        HttpResponse<String> res = adminCall("POST", "/config/reload", null);
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        assertThat(res.body()).contains("\"result\":\"applied\"", "\"generation\":2", "\"routes_changed\":true");

        HttpResponse<String> b = client.send(HttpRequest.newBuilder(relay.uri(proto, "/b")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(b.statusCode()).isEqualTo(200);
        assertThat(b.headers().firstValue("x-endpoint")).hasValue("two");
        assertThat(reloads("applied")).isEqualTo(1.0);
    }

    @Test
    void anInvalidFileIsRejectedWithLineNumbersAndTheOldConfigServes() throws Exception {
        relay = config("").startFrom(file);
        String good = Files.readString(file);
        Files.writeString(file, good.replace("cluster: one", "cluster: nosuch"));
        HttpResponse<String> res = adminCall("POST", "/config/reload", null);
        assertThat(res.statusCode()).isEqualTo(400);
        assertThat(res.headers().firstValue("content-type")).hasValue("application/json");
        int line = lineOf(good, "cluster: one");
        assertThat(res.body()).contains("\"code\":\"invalid_config\"", "\"result\":\"rejected\"",
                "\"line\":" + line, "nosuch");
        HttpResponse<String> a = relay.client(Proto.H2).send(HttpRequest.newBuilder(relay.uri(Proto.H2, "/a"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(a.statusCode()).isEqualTo(200);
        assertThat(a.headers().firstValue("x-endpoint")).hasValue("one");
        assertThat(relay.server().runtime().generation()).isEqualTo(1);
        assertThat(reloads("rejected")).isEqualTo(1.0);
        HttpResponse<String> metrics = adminCall("GET", "/metrics", null);
        assertThat(metrics.body()).contains("h3relay_config_reloads_total{result=\"rejected\"} 1.0",
                "h3relay_config_reloads_total{result=\"applied\"} 0.0");

        // YAML that does not parse: the error names its line too.
        Files.writeString(file, good + "\nroutes: [ {\n");
        res = adminCall("POST", "/config/reload", null);
        assertThat(res.statusCode()).isEqualTo(400);
        assertThat(res.body()).containsPattern("\"line\":[1-9]");
    }

    private static int lineOf(String text, String needle) {
        List<String> lines = text.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(needle)) {
                return i + 1;
            }
        }
        throw new AssertionError(needle);
    }

    @Test
    void aFileThatNeedsARestartIsRefusedNamingTheSetting() throws Exception {
        relay = config("").startFrom(file);
        Files.writeString(file, Files.readString(file).replace("drain_timeout: 2s", "drain_timeout: 3s"));
        HttpResponse<String> res = adminCall("POST", "/config/reload", null);
        assertThat(res.statusCode()).isEqualTo(409);
        assertThat(res.body()).contains("\"result\":\"restart_required\"",
                "shutdown.drain_timeout: 2000ms -> 3000ms");
        assertThat(reloads("restart_required")).isEqualTo(1.0);
        assertThat(relay.server().runtime().generation()).isEqualTo(1);
    }

    @Test
    void theWatchedFileIsReloadedWhenItChanges() throws Exception {
        String watched = BASE.replace("  address: 127.0.0.1:0\nlisteners:", "  address: 127.0.0.1:0\n  watch_config: true\nlisteners:");
        assertThat(watched).contains("watch_config: true");
        relay = RelayHarness.yaml(watched).with("LIMITS", "{}").with("MORE_ROUTES", "")
                .with("ONE", one.address()).with("TWO", two.address()).startFrom(file);
        String next = RelayHarness.yaml(watched).with("LIMITS", "{}")
                .with("MORE_ROUTES", "  - { name: b, match: { path_prefix: /b }, cluster: two }")
                .with("ONE", one.address()).with("TWO", two.address()).text();
        Files.writeString(file, next);
        HttpClient client = relay.client(Proto.H1);
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> client.send(
                HttpRequest.newBuilder(relay.uri(Proto.H1, "/b")).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode() == 200);
        assertThat(reloads("applied")).isEqualTo(1.0);
        // An unchanged save (touch) does not reload.
        Files.writeString(file, next);
        Thread.sleep(1000); // nothing to poll for: the absence of a second reload is the point
        assertThat(reloads("applied")).isEqualTo(1.0);
    }

    @Test
    void healthOfAnEndpointThatStaysCarriesOverARebuildOfItsCluster() throws Exception {
        String checked = BASE.replace("""
                  - name: one
                    endpoints: [ { address: "@ONE@" } ]
                """, """
                  - name: one
                    endpoints: [ { address: "@ONE@" }, { address: "@TWO@" } ]
                    health_check: { path: /check, interval: 100ms, timeout: 300ms, healthy_threshold: 3,
                                    unhealthy_threshold: 1 }
                """);
        assertThat(checked).contains("health_check");
        relay = RelayHarness.yaml(checked).with("LIMITS", "{}").with("MORE_ROUTES", "")
                .with("ONE", one.address()).with("TWO", two.address()).startFrom(file);
        two.stop();
        Cluster before = relay.server().clusters().get("one");
        await().atMost(Duration.ofSeconds(10)).until(() -> !before.endpoint(two.address()).health().isCheckHealthy());

        // Changing the cluster (a third endpoint, through the admin API) rebuilds it.
        try (TestEndpoint three = TestEndpoint.start("three")) {
            HttpResponse<String> res = adminCall("POST", "/clusters/one/endpoints",
                    "{\"address\": \"" + three.address() + "\", \"weight\": 2}");
            assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
            assertThat(res.body()).contains("\"clusters_replaced\":[\"one\"]");
            Cluster after = relay.server().clusters().get("one");
            assertThat(after).isNotSameAs(before);
            // At once, before any check of the new cluster could have run three rounds: still unhealthy.
            assertThat(after.endpoint(two.address()).health().isCheckHealthy()).isFalse();
            assertThat(after.snapshot().endpoints()).extracting(Object::toString)
                    .containsExactlyInAnyOrder(one.address(), three.address());
            HttpResponse<String> health = adminCall("GET", "/health", null);
            assertThat(health.body()).contains("\"address\":\"" + three.address() + "\"");

            // Removed again through the API; the endpoint that stays is still unhealthy.
            res = adminCall("DELETE", "/clusters/one/endpoints/" + three.address(), null);
            assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
            assertThat(relay.server().clusters().get("one").endpoints()).extracting(Object::toString)
                    .containsExactly(one.address(), two.address());
            assertThat(relay.server().clusters().get("one").endpoint(two.address()).health().isCheckHealthy())
                    .isFalse();
        }
        List<String> types = relay.server().events().since(0).stream().map(e -> e.type()).toList();
        assertThat(types).contains("health", "reload");
    }

    @Test
    void putConfigAppliesAndPersistsAndGetConfigRedactsTheToken() throws Exception {
        String tokened = BASE.replace("  address: 127.0.0.1:0\nlisteners:",
                "  address: 127.0.0.1:0\n  auth_token: s3cret-t0ken\nlisteners:");
        relay = RelayHarness.yaml(tokened).with("LIMITS", "{}").with("MORE_ROUTES", "")
                .with("ONE", one.address()).with("TWO", two.address()).startFrom(file);
        String auth = "Bearer s3cret-t0ken";

        HttpResponse<String> cfg = adminCall("GET", "/config", null);
        assertThat(cfg.statusCode()).isEqualTo(200);
        assertThat(cfg.body()).contains("\"auth_token\":\"[redacted]\"").doesNotContain("s3cret-t0ken");

        String next = RelayHarness.yaml(tokened).with("LIMITS", "{}")
                .with("MORE_ROUTES", "  - { name: b, match: { path_prefix: /b }, cluster: two }")
                .with("ONE", one.address()).with("TWO", two.address()).text();
        assertThat(adminCall("PUT", "/config", next).statusCode()).isEqualTo(401);
        HttpResponse<String> wrong = adminCall("PUT", "/config", next, "Authorization", "Bearer nope");
        assertThat(wrong.statusCode()).isEqualTo(403);
        assertThat(wrong.body()).contains("\"code\":\"forbidden\"");
        assertThat(adminCall("POST", "/config/reload", null).statusCode()).isEqualTo(401);
        assertThat(adminCall("POST", "/drain", null).statusCode()).isEqualTo(401);

        HttpResponse<String> bad = adminCall("PUT", "/config?persist=true", "listeners: 3\n", "Authorization", auth);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("\"line\":1");
        assertThat(Files.readString(file)).doesNotContain("listeners: 3");

        HttpResponse<String> put = adminCall("PUT", "/config?persist=true", next, "Authorization", auth);
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        assertThat(Files.readString(file)).isEqualTo(next);
        assertThat(relay.client(Proto.H1).send(HttpRequest.newBuilder(relay.uri(Proto.H1, "/b")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);

        // Clear errors for bad calls.
        HttpResponse<String> missing = adminCall("GET", "/nosuch", null);
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).contains("\"code\":\"not_found\"");
        HttpResponse<String> method = adminCall("DELETE", "/config", null, "Authorization", auth);
        assertThat(method.statusCode()).isEqualTo(405);
        assertThat(method.headers().firstValue("allow")).hasValue("GET, PUT");
        HttpResponse<String> noCluster = adminCall("POST", "/clusters/nosuch/endpoints/1.2.3.4:5/drain", null,
                "Authorization", auth);
        assertThat(noCluster.statusCode()).isEqualTo(404);
        HttpResponse<String> badBody = adminCall("POST", "/clusters/one/endpoints", "{\"address\": \"nope\"}",
                "Authorization", auth);
        assertThat(badBody.statusCode()).isEqualTo(400);
        assertThat(badBody.body()).contains("host:port");
    }

    @Test
    void eventsAreStreamedAsServerSentEventsAndKeptForSince() throws Exception {
        relay = config("").startFrom(file);
        URI events = URI.create("http://127.0.0.1:" + relay.server().adminAddress().getPort() + "/events");
        HttpResponse<java.io.InputStream> stream = admin.send(HttpRequest.newBuilder(events)
                .header("accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(stream.statusCode()).isEqualTo(200);
        assertThat(stream.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (Exception ignored) {
                // closed at the end of the test
            }
        });
        Files.writeString(file, Files.readString(file).replace("cluster: one", "cluster: nosuch"));
        adminCall("POST", "/config/reload", null);
        await().atMost(Duration.ofSeconds(5)).until(() -> lines.contains("event: reload"));
        assertThat(lines).anyMatch(l -> l.startsWith("data: {\"id\":1,") && l.contains("\"result\":\"rejected\""));
        assertThat(lines).contains("id: 1");
        stream.body().close();
        reader.interrupt();

        HttpResponse<String> json = adminCall("GET", "/events?since=0", null, "Accept", "application/json");
        assertThat(json.statusCode()).isEqualTo(200);
        assertThat(json.body()).startsWith("[{\"id\":1,").contains("\"type\":\"reload\"");
        assertThat(adminCall("GET", "/events?since=1", null, "Accept", "application/json").body()).isEqualTo("[]\n");
        assertThat(adminCall("GET", "/events?since=x", null, "Accept", "application/json").statusCode())
                .isEqualTo(400);
    }
}
