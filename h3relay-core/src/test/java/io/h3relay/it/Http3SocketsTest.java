package io.h3relay.it;

import io.h3relay.testing.Http3TestClient;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code http3.sockets: 2}: two SO_REUSEPORT UDP sockets share the port, the kernel spreads new QUIC
 * connections over them, and every connection keeps working on the socket that owns it (the connection-id
 * dispatcher routes its later packets there).
 */
class Http3SocketsTest {
    @Test
    void connectionsSpreadOverReuseportSockets() throws Exception {
        try (TestEndpoint endpoint = TestEndpoint.start("sockets");
             RelayHarness relay = RelayHarness.yaml(RelayHarness.LISTENERS.replace(
                     "protocols: [http1, http2, http3]", "protocols: [http1, http2, http3]\n    http3: { sockets: 2 }")
                     + """
                     routes:
                       - { name: all, match: { path_prefix: / }, cluster: c }
                     clusters:
                       - { name: c, endpoints: [ { address: "@EP@" } ] }
                     """).with("LIMITS", "{}").with("EP", endpoint.address()).start()) {
            int connections = 24;
            for (int i = 0; i < connections; i++) {
                // A new client is a new UDP source port, so a new 4-tuple for the kernel to hash.
                try (Http3TestClient client = new Http3TestClient(RelayHarness.certs().caCert())) {
                    for (int r = 0; r < 3; r++) {
                        HttpResponse<String> res = client.send(HttpRequest.newBuilder(relay.uri(Proto.H3, "/x")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        assertThat(res.statusCode()).isEqualTo(200);
                    }
                }
            }
            long[] perSocket = relay.server().http3Listeners().get("tls").connectionsPerSocket();
            assertThat(perSocket).hasSize(2);
            assertThat(Arrays.stream(perSocket).sum()).isEqualTo(connections);
            // Random placement leaves a socket empty with probability 2^-23.
            assertThat(Arrays.stream(perSocket).min().orElse(0)).isPositive();
            assertThat(endpoint.requestCount()).isEqualTo(3 * connections);
        }
    }
}
