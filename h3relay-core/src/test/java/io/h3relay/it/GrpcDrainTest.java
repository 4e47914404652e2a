package io.h3relay.it;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** A gRPC call arriving while the proxy drains gets UNAVAILABLE with {@code retry-after} metadata (grpc-java). */
class GrpcDrainTest {

    @Test
    void drainingIsUnavailableWithRetryAfter() throws Exception {
        try (GrpcEcho server = GrpcEcho.startH2c()) {
            RelayHarness relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                    routes:
                      - { name: grpc, match: { path_prefix: /test.Echo/ }, cluster: grpc }
                    clusters:
                      - { name: grpc, protocol: h2c, endpoints: [ { address: "@GRPC@" } ] }
                    """).with("LIMITS", "{}").with("GRPC", server.address()).start();
            ManagedChannel holder = GrpcEcho.tlsChannel(RelayHarness.certs(), relay.tlsPort());
            ManagedChannel late = null;
            try {
                // an in-flight call holds the drain open
                var inFlight = ClientCalls.futureUnaryCall(holder.newCall(GrpcEcho.HANG,
                        CallOptions.DEFAULT.withDeadlineAfter(4, TimeUnit.SECONDS)), new byte[0]);
                await().atMost(Duration.ofSeconds(5)).until(() -> server.lastTimeout() != null);
                CompletableFuture<Void> stopping = CompletableFuture.runAsync(
                        () -> relay.server().stop(Duration.ofSeconds(3)));
                URI readyz = URI.create("http://127.0.0.1:" + relay.server().adminAddress().getPort() + "/readyz");
                try (HttpClient admin = HttpClient.newHttpClient()) {
                    await().atMost(Duration.ofSeconds(2)).until(() -> admin.send(HttpRequest.newBuilder(readyz).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode() == 503);
                }
                late = GrpcEcho.tlsChannel(RelayHarness.certs(), relay.tlsPort());
                ManagedChannel lateChannel = late;
                assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(lateChannel, GrpcEcho.UNARY,
                        CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), new byte[] {1}))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                            assertThat(e.getStatus().getDescription()).contains("shutting down");
                            assertThat(e.getTrailers().get(Metadata.Key.of("retry-after",
                                    Metadata.ASCII_STRING_MARSHALLER))).isEqualTo("1");
                        });
                inFlight.cancel(true);
                stopping.get(10, TimeUnit.SECONDS);
            } finally {
                holder.shutdownNow();
                if (late != null) {
                    late.shutdownNow();
                }
                relay.close();
            }
        }
    }
}
