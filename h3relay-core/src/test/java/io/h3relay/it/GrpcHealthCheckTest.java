package io.h3relay.it;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code health_check.type: grpc}: grpc.health.v1 {@code Check} of the configured service, over the cluster's
 * h2c, against grpc-java: SERVING keeps the endpoint healthy, NOT_SERVING takes it out (as /introspect shows),
 * SERVING again brings it back; an unknown service name (NOT_FOUND) is unhealthy.
 */
class GrpcHealthCheckTest {

    @Test
    void grpcChecksFollowTheServingStatus() throws Exception {
        try (GrpcEcho server = GrpcEcho.startH2c();
             RelayHarness relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                     routes:
                       - { name: grpc, match: { path_prefix: / }, cluster: grpc }
                     clusters:
                       - name: grpc
                         protocol: h2c
                         endpoints: [ { address: "@GRPC@" } ]
                         health_check: { type: grpc, service: test.Echo, interval: 100ms, timeout: 1s,
                                         healthy_threshold: 1, unhealthy_threshold: 1 }
                       - name: unknown
                         protocol: h2c
                         endpoints: [ { address: "@GRPC@" } ]
                         health_check: { type: grpc, service: no.Such, interval: 100ms, timeout: 1s,
                                         healthy_threshold: 1, unhealthy_threshold: 1 }
                     """).with("LIMITS", "{}").with("GRPC", server.address()).start();
             HttpClient admin = HttpClient.newHttpClient()) {
            URI introspect = URI.create("http://127.0.0.1:" + relay.server().adminAddress().getPort() + "/introspect");
            await().atMost(Duration.ofSeconds(5)).until(() -> server.healthChecks() >= 4);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(checkHealthy(admin, introspect)).containsExactly(true, false));
            server.serving(false);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(checkHealthy(admin, introspect)).containsExactly(false, false));
            server.serving(true);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(checkHealthy(admin, introspect)).containsExactly(true, false));
        }
    }

    /** Each endpoint's {@code check_healthy}, in the order of the clusters. */
    private static java.util.List<Boolean> checkHealthy(HttpClient admin, URI introspect) throws Exception {
        String body = admin.send(HttpRequest.newBuilder(introspect).build(), HttpResponse.BodyHandlers.ofString()).body();
        java.util.List<Boolean> out = new java.util.ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"check_healthy\":(true|false)").matcher(body);
        while (m.find()) {
            out.add(Boolean.parseBoolean(m.group(1)));
        }
        return out;
    }
}
