package io.h3relay.it;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.h3relay.grpc.Grpc;
import io.h3relay.testing.Http2TestEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Errors the proxy makes for gRPC requests are gRPC responses (trailers-only, HTTP 200), seen by grpc-java:
 * no route UNIMPLEMENTED, connect failure UNAVAILABLE, route timeout DEADLINE_EXCEEDED, too large
 * RESOURCE_EXHAUSTED, an endpoint's plain HTTP error mapped by gRPC's table; {@code grpc-timeout} forwarded
 * reduced; a trailers-only UNAVAILABLE retried under {@code retry.on: [unavailable]}; gRPC over HTTP/1.1
 * refused with a JSON envelope that says why.
 */
class GrpcErrorsTest {
    static GrpcEcho server;
    static Http2TestEndpoint plainHttp;
    static RelayHarness relay;
    static ManagedChannel channel;

    @BeforeAll
    static void start() throws Exception {
        server = GrpcEcho.startH2c();
        plainHttp = Http2TestEndpoint.startH2c(100);
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: ok, match: { path_prefix: /, headers: { x-to: ok } }, cluster: grpc }
                  - name: retried
                    match: { path_prefix: /, headers: { x-to: retried } }
                    cluster: grpc
                    retry: { attempts: 2, on: [unavailable] }
                  - { name: slow, match: { path_prefix: /, headers: { x-to: slow } }, cluster: grpc, timeout: 300ms }
                  - { name: down, match: { path_prefix: /, headers: { x-to: down } }, cluster: down }
                  - { name: http, match: { path_prefix: /, headers: { x-to: http } }, cluster: http }
                  - name: limited
                    match: { path_prefix: /, headers: { x-to: limited } }
                    cluster: grpc
                    policies: { rate_limit: { requests_per_second: 0.1, burst: 1, key: route } }
                  - name: keyed
                    match: { path_prefix: /, headers: { x-to: keyed } }
                    cluster: grpc
                    policies: { auth: { api_keys: { keys: [ { name: k, sha256: "@SHA@" } ] } } }
                  - name: denied
                    match: { path_prefix: /, headers: { x-to: denied } }
                    cluster: grpc
                    policies: { ip_rules: { deny: [ 127.0.0.0/8, "::1/128" ] } }
                clusters:
                  - { name: grpc, protocol: h2c, endpoints: [ { address: "@GRPC@" } ] }
                  - { name: down, protocol: h2c, endpoints: [ { address: "127.0.0.1:@CLOSED@" } ] }
                  - { name: http, protocol: h2c, endpoints: [ { address: "@HTTP@" } ] }
                """).with("LIMITS", "{ max_request_body_size: 1MiB }").with("GRPC", server.address())
                .with("CLOSED", closedPort)
                .with("SHA", "0".repeat(64)).with("HTTP", plainHttp.address()).start();
        channel = GrpcEcho.tlsChannel(RelayHarness.certs(), relay.tlsPort());
    }

    @AfterAll
    static void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (relay != null) {
            relay.close();
        }
        server.close();
        plainHttp.close();
    }

    private static Channel to(String route) {
        Metadata m = new Metadata();
        m.put(Metadata.Key.of("x-to", Metadata.ASCII_STRING_MARSHALLER), route);
        return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(m));
    }

    private static StatusRuntimeException call(Channel ch, MethodDescriptor<byte[], byte[]> method, byte[] body) {
        try {
            ClientCalls.blockingUnaryCall(ch, method, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS)
                    .withMaxOutboundMessageSize(64 << 20), body);
        } catch (StatusRuntimeException e) {
            return e;
        }
        throw new AssertionError("the call succeeded");
    }

    @Test
    void noRouteIsUnimplemented() {
        StatusRuntimeException e = call(to("nowhere"), GrpcEcho.UNARY, new byte[1]);
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
        assertThat(e.getStatus().getDescription()).contains("request_id");
    }

    @Test
    void connectFailureIsUnavailable() {
        StatusRuntimeException e = call(to("down"), GrpcEcho.UNARY, new byte[1]);
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getStatus().getDescription()).contains("connection refused");
    }

    @Test
    void routeTimeoutIsDeadlineExceeded() {
        StatusRuntimeException e = call(to("slow"), GrpcEcho.HANG, new byte[1]);
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(e.getStatus().getDescription()).contains("route timeout of 300ms");
    }

    @Test
    void tooLargeIsResourceExhausted() {
        StatusRuntimeException e = call(to("ok"), GrpcEcho.UNARY, new byte[2 << 20]);
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    }

    @ParameterizedTest
    @CsvSource({"503, UNAVAILABLE", "404, UNIMPLEMENTED", "401, UNAUTHENTICATED", "500, UNKNOWN"})
    void anEndpointsPlainHttpErrorIsMappedByGrpcsTable(int status, Status.Code expected) {
        MethodDescriptor<byte[], byte[]> m = GrpcEcho.UNARY.toBuilder()
                .setFullMethodName("status/" + status + "/x").build();
        StatusRuntimeException e = call(to("http"), m, new byte[1]);
        assertThat(e.getStatus().getCode()).isEqualTo(expected);
        assertThat(e.getStatus().getDescription()).contains("answered HTTP " + status);
    }

    @Test
    void grpcTimeoutIsForwardedReduced() {
        byte[] res = ClientCalls.blockingUnaryCall(to("ok"), GrpcEcho.UNARY,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[] {1});
        assertThat(res).containsExactly(1);
        long forwarded = Grpc.timeoutNanos(new io.netty.handler.codec.http.DefaultHttpHeaders()
                .set("grpc-timeout", server.lastTimeout()));
        assertThat(forwarded).isPositive().isLessThan(TimeUnit.SECONDS.toNanos(10));
    }

    @Test
    void unavailableTrailersOnlyIsRetriedWhenTheRouteSaysSo() {
        int before = server.flakyCalls();
        byte[] res = ClientCalls.blockingUnaryCall(to("retried"), GrpcEcho.FLAKY,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[] {7});
        assertThat(res).containsExactly(7);
        assertThat(server.flakyCalls() - before).isEqualTo(before % 2 == 0 ? 2 : 1);

        // without the rule the first UNAVAILABLE goes to the client as it came
        if (server.flakyCalls() % 2 == 1) {
            ClientCalls.blockingUnaryCall(to("ok"), GrpcEcho.FLAKY, CallOptions.DEFAULT, new byte[] {7});
        }
        StatusRuntimeException e = call(to("ok"), GrpcEcho.FLAKY, new byte[] {7});
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getStatus().getDescription()).isEqualTo("try again");
    }

    @Test
    void grpcOverHttp1GetsAClearError() throws Exception {
        HttpResponse<String> res = relay.client(Proto.H1).send(HttpRequest.newBuilder(relay.uri(Proto.H1,
                        "/test.Echo/Unary")).timeout(Duration.ofSeconds(10)).header("content-type", "application/grpc")
                .header("x-to", "ok").POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {0, 0, 0, 0, 0})).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).isEqualTo(400);
        assertThat(res.body()).contains("gRPC needs HTTP/2 or HTTP/3");
    }

    /** Policy refusals are gRPC statuses too: rate limit, authentication, IP rules. */
    @Test
    void policyRefusalsAreGrpcStatuses() {
        // burst 1: the first call takes the bucket's one token, the next is refused
        ClientCalls.blockingUnaryCall(to("limited"), GrpcEcho.UNARY,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[] {1});
        assertThat(call(to("limited"), GrpcEcho.UNARY, new byte[1]).getStatus().getCode())
                .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(call(to("keyed"), GrpcEcho.UNARY, new byte[1]).getStatus().getCode())
                .isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(call(to("denied"), GrpcEcho.UNARY, new byte[1]).getStatus().getCode())
                .isEqualTo(Status.Code.PERMISSION_DENIED);
    }
}
