package io.h3relay.it;

import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Admin {@code POST /clusters/{c}/endpoints/{e}/drain}, {@code /enable}, {@code /disable} on h1, h2 and h3:
 * a draining endpoint's slow downloads in flight finish intact, no new request reaches it (counted at the
 * endpoint), and it turns {@code drained} once they are done; enabled, it takes traffic again; disabled, none.
 */
class EndpointDrainTest {
    TestEndpoint a;
    TestEndpoint b;
    RelayHarness relay;
    HttpClient admin;

    @BeforeEach
    void start() {
        a = TestEndpoint.start("a");
        b = TestEndpoint.start("b");
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, load_balancer: round_robin, endpoints: [ { address: "@A@" }, { address: "@B@" } ] }
                """).with("LIMITS", "{}").with("A", a.address()).with("B", b.address()).start();
        admin = HttpClient.newHttpClient();
    }

    @AfterEach
    void stop() {
        relay.close();
        admin.close();
        a.close();
        b.close();
    }

    private HttpResponse<String> adminCall(String method, String path) throws Exception {
        return admin.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + relay.server().adminAddress().getPort() + path)).method(method, HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private String stateOfA() throws Exception {
        String health = adminCall("GET", "/health").body();
        int at = health.indexOf("\"address\":\"" + a.address() + "\"");
        String rest = health.substring(at);
        return rest.replaceFirst("(?s).*?\"state\":\"([a-z]+)\".*", "$1");
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void drainLetsSlowDownloadsFinishAndSendsNothingNew(Proto proto) throws Exception {
        HttpClient client = relay.client(proto);
        URI slow = relay.uri(proto, "/slow?chunks=15&interval=100&size=1000");
        List<CompletableFuture<HttpResponse<byte[]>>> downloads = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            downloads.add(client.sendAsync(HttpRequest.newBuilder(slow).build(), HttpResponse.BodyHandlers.ofByteArray()));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> a.requestCount() >= 1 && b.requestCount() >= 1
                && a.requestCount() + b.requestCount() == 4);
        int atA = a.requestCount();

        HttpResponse<String> drain = adminCall("POST", "/clusters/c/endpoints/" + a.address() + "/drain");
        assertThat(drain.statusCode()).as(drain.body()).isEqualTo(202);
        assertThat(drain.body()).contains("\"state\":\"draining\"");
        assertThat(stateOfA()).isEqualTo("draining");

        for (int i = 0; i < 10; i++) {
            HttpResponse<String> res = client.send(HttpRequest.newBuilder(relay.uri(proto, "/fast")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.headers().firstValue("x-endpoint")).hasValue("b");
        }
        assertThat(a.requestCount()).as("requests that reached the draining endpoint").isEqualTo(atA);

        for (CompletableFuture<HttpResponse<byte[]>> d : downloads) {
            HttpResponse<byte[]> res = d.get();
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.body()).hasSize(15_000);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> stateOfA().equals("drained"));
        assertThat(relay.server().events().since(0)).anyMatch(e -> e.type().equals("drained"));

        assertThat(adminCall("POST", "/clusters/c/endpoints/" + a.address() + "/enable").statusCode()).isEqualTo(200);
        for (int i = 0; i < 4; i++) {
            client.send(HttpRequest.newBuilder(relay.uri(proto, "/fast")).build(), HttpResponse.BodyHandlers.discarding());
        }
        assertThat(a.requestCount()).isGreaterThan(atA);

        assertThat(adminCall("POST", "/clusters/c/endpoints/" + a.address() + "/disable").statusCode()).isEqualTo(200);
        int disabledAt = a.requestCount();
        for (int i = 0; i < 6; i++) {
            client.send(HttpRequest.newBuilder(relay.uri(proto, "/fast")).build(), HttpResponse.BodyHandlers.discarding());
        }
        assertThat(a.requestCount()).isEqualTo(disabledAt);
        assertThat(stateOfA()).isEqualTo("disabled");
        assertThat(adminCall("GET", "/clusters/c/endpoints/" + a.address() + "/drain").statusCode()).isEqualTo(405);
        assertThat(adminCall("POST", "/clusters/c/endpoints/127.0.0.1:1/drain").statusCode()).isEqualTo(404);
    }
}
