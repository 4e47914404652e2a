package io.h3relay.it;

import io.h3relay.config.ConfigException;
import io.h3relay.config.ConfigLoader;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Route action {@code builtin: healthz | readyz} on a traffic listener, over h1, h2 and h3: healthz answers 200
 * while the process runs; readyz 200, then 503 from the moment a drain is asked for (during
 * {@code shutdown.drain_delay}, while every other route is still served).
 */
class BuiltinHealthRouteTest {
    private static final String CONFIG = RelayHarness.LISTENERS.replace("drain_timeout: 2s",
            "drain_delay: 10s, drain_timeout: 2s") + """
            routes:
              - { name: healthz, match: { path: /healthz }, builtin: healthz }
              - { name: readyz, match: { path: /readyz }, builtin: readyz }
              - { name: app, match: { path_prefix: / }, cluster: c }
            clusters:
              - { name: c, endpoints: [ { address: "@EP@" } ] }
            """;

    @ParameterizedTest
    @EnumSource(Proto.class)
    void healthzAndReadyzAnswerOnTheTrafficListenerAndReadyzTurns503OnDrain(Proto proto) throws Exception {
        assertThat(CONFIG).contains("drain_delay: 10s");
        try (TestEndpoint ep = TestEndpoint.start("ep");
             RelayHarness relay = RelayHarness.yaml(CONFIG).with("LIMITS", "{}").with("EP", ep.address()).start()) {
            HttpClient client = relay.client(proto);
            HttpResponse<String> healthz = get(client, relay, proto, "/healthz");
            assertThat(healthz.statusCode()).isEqualTo(200);
            assertThat(healthz.body()).isEqualTo("ok\n");
            HttpResponse<String> readyz = get(client, relay, proto, "/readyz");
            assertThat(readyz.statusCode()).isEqualTo(200);
            assertThat(readyz.body()).isEqualTo("ready\n");
            assertThat(ep.requestCount()).as("answered by the proxy itself").isZero();

            assertThat(relay.server().startDrain("test")).isTrue();
            HttpResponse<String> notReady = get(client, relay, proto, "/readyz");
            assertThat(notReady.statusCode()).isEqualTo(503);
            assertThat(notReady.body()).isEqualTo("not ready\n");
            assertThat(get(client, relay, proto, "/healthz").statusCode()).isEqualTo(200);
            assertThat(get(client, relay, proto, "/app").statusCode()).as("still served during drain_delay")
                    .isEqualTo(200);
        }
    }

    private static HttpResponse<String> get(HttpClient client, RelayHarness relay, Proto proto, String path)
            throws Exception {
        return client.send(HttpRequest.newBuilder(relay.uri(proto, path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anUnknownBuiltinIsAConfigErrorWithItsLine() {
        String yaml = """
                listeners:
                  - { name: web, address: 127.0.0.1:0, protocols: [http1], routes: [h] }
                routes:
                  - name: h
                    builtin: status
                """;
        assertThatThrownBy(() -> ConfigLoader.parse(yaml, Path.of("."), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("line 5")
                .hasMessageContaining("healthz");
    }
}
