package io.h3relay.it;

import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** The {@code http3:} switches: Alt-Svc off or pointing at an advertised port; stateless retry off. */
class Http3OptionsTest {
    private static RelayHarness start(TestEndpoint endpoint, String http3Block) {
        return RelayHarness.yaml(RelayHarness.LISTENERS.replace("protocols: [http1, http2, http3]",
                "protocols: [http1, http2, http3]\n    http3: " + http3Block) + """
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                """).with("LIMITS", "{}").with("EP", endpoint.address()).start();
    }

    @Test
    void altSvcOffAndRetryOffStillServeH3() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("opts");
             RelayHarness relay = start(endpoint, "{ alt_svc: false, retry: false }")) {
            HttpResponse<String> h2 = relay.client(Proto.H2).send(HttpRequest.newBuilder(relay.uri(Proto.H2, "/"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(h2.statusCode()).isEqualTo(200);
            assertThat(h2.headers().firstValue("alt-svc")).isEmpty();

            HttpResponse<String> h3 = relay.client(Proto.H3).send(HttpRequest.newBuilder(relay.uri(Proto.H3, "/"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(h3.statusCode()).isEqualTo(200);
            assertThat(endpoint.lastRequest().header("via")).hasValue("3 h3relay");
        }
    }

    @Test
    void altSvcNamesTheAdvertisedPortAndMaxAge() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("opts");
             RelayHarness relay = start(endpoint, "{ advertised_port: 443, alt_svc_max_age: 1h }")) {
            HttpResponse<String> h1 = relay.client(Proto.H1).send(HttpRequest.newBuilder(relay.uri(Proto.H1, "/"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(h1.headers().firstValue("alt-svc")).hasValue("h3=\":443\"; ma=3600");
        }
    }
}
