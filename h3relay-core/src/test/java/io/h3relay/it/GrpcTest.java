package io.h3relay.it;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.h3relay.testing.TestCertificates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Iterator;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * gRPC through the proxy with grpc-java on both sides (client and server we did not write): downstream h2
 * (TLS, ALPN h2) to upstream h2 (TLS) and h2c. Unary, 10,000-message streams each way and both ways at
 * once, a 16 MiB message, a status with message and text/-bin metadata in trailers, deadline exceeded,
 * and a client cancel reaching the server. ({@code te: trailers} reaching the endpoint is asserted in
 * {@code Http2UpstreamTest}: grpc-java's server does not show it to the service.)
 */
class GrpcTest {
    static GrpcEcho tls;
    static GrpcEcho h2c;
    static RelayHarness relay;
    static ManagedChannel channel;

    @BeforeAll
    static void start() {
        TestCertificates certs = RelayHarness.certs();
        tls = GrpcEcho.startTls(certs);
        h2c = GrpcEcho.startH2c();
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: tls, match: { path_prefix: /, headers: { x-upstream: tls } }, cluster: tls }
                  - { name: h2c, match: { path_prefix: /, headers: { x-upstream: h2c } }, cluster: h2c }
                clusters:
                  - name: tls
                    protocol: http2
                    endpoints: [ { address: "localhost:@TLS_PORT@" } ]
                    tls: { verify: true, ca: "@CA@" }
                  - { name: h2c, protocol: h2c, endpoints: [ { address: "@H2C@" } ] }
                """).with("LIMITS", "{ max_request_body_size: 64MiB }").with("TLS_PORT", tls.port())
                .with("CA", certs.caCertPath()).with("H2C", h2c.address()).start();
        channel = GrpcEcho.tlsChannel(certs, relay.tlsPort());
    }

    @AfterAll
    static void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (relay != null) {
            relay.close();
        }
        tls.close();
        h2c.close();
    }

    private static Channel via(String upstream, AtomicReference<Metadata> headers, AtomicReference<Metadata> trailers) {
        Metadata route = new Metadata();
        route.put(Metadata.Key.of("x-upstream", Metadata.ASCII_STRING_MARSHALLER), upstream);
        return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(route),
                MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));
    }

    private static Channel via(String upstream) {
        return via(upstream, new AtomicReference<>(), new AtomicReference<>());
    }

    private static GrpcEcho server(String upstream) {
        return upstream.equals("tls") ? tls : h2c;
    }

    @ParameterizedTest
    @ValueSource(strings = {"tls", "h2c"})
    void unary(String upstream) {
        AtomicReference<Metadata> headers = new AtomicReference<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        byte[] res = ClientCalls.blockingUnaryCall(via(upstream, headers, trailers), GrpcEcho.UNARY,
                GrpcEcho.options(10_000), "hello".getBytes());
        assertThat(new String(res)).isEqualTo("hello");
        assertThat(trailers.get()).isNotNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"tls", "h2c"})
    void sixteenMebibyteMessage(String upstream) {
        byte[] big = new byte[16 << 20];
        new Random(7).nextBytes(big);
        byte[] res = ClientCalls.blockingUnaryCall(via(upstream), GrpcEcho.UNARY, GrpcEcho.options(60_000)
                .withMaxInboundMessageSize(64 << 20).withMaxOutboundMessageSize(64 << 20), big);
        assertThat(res).isEqualTo(big);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tls", "h2c"})
    void tenThousandMessagesFromTheServer(String upstream) {
        Iterator<byte[]> it = ClientCalls.blockingServerStreamingCall(via(upstream), GrpcEcho.DOWNLOAD,
                GrpcEcho.options(60_000), ByteBuffer.allocate(4).putInt(10_000).array());
        long expected = 0;
        while (it.hasNext()) {
            assertThat(ByteBuffer.wrap(it.next()).getLong()).isEqualTo(expected++);
        }
        assertThat(expected).isEqualTo(10_000);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tls", "h2c"})
    void tenThousandMessagesToTheServer(String upstream) throws Exception {
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        StreamObserver<byte[]> out = ClientCalls.asyncClientStreamingCall(
                via(upstream).newCall(GrpcEcho.UPLOAD, GrpcEcho.options(60_000)), observer(result, null));
        for (int i = 0; i < 10_000; i++) {
            out.onNext(ByteBuffer.allocate(100).putInt(i).array());
        }
        out.onCompleted();
        assertThat(ByteBuffer.wrap(result.get(60, TimeUnit.SECONDS)).getInt()).isEqualTo(10_000);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tls", "h2c"})
    void tenThousandMessagesBothWaysAtOnce(String upstream) throws Exception {
        CompletableFuture<byte[]> done = new CompletableFuture<>();
        AtomicInteger received = new AtomicInteger();
        StreamObserver<byte[]> out = ClientCalls.asyncBidiStreamingCall(
                via(upstream).newCall(GrpcEcho.CHAT, GrpcEcho.options(60_000)), observer(done, received));
        for (int i = 0; i < 10_000; i++) {
            out.onNext(ByteBuffer.allocate(64).putInt(i).array());
        }
        out.onCompleted();
        done.get(60, TimeUnit.SECONDS);
        assertThat(received.get()).isEqualTo(10_000);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tls", "h2c"})
    void statusMessageAndMetadataInTrailersArriveIntact(String upstream) {
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(via(upstream), GrpcEcho.FAIL, GrpcEcho.options(10_000),
                new byte[0]))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).isEqualTo("bad thing: ünïcode %");
                    assertThat(e.getTrailers().get(GrpcEcho.TEXT)).isEqualTo("detail text");
                    assertThat(e.getTrailers().get(GrpcEcho.BIN)).containsExactly(0, 1, 2, 0xff);
                });
    }

    @ParameterizedTest
    @ValueSource(strings = {"tls", "h2c"})
    void deadlineExceededReachesTheServerAsACancel(String upstream) {
        int before = server(upstream).cancelled();
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(via(upstream), GrpcEcho.HANG, GrpcEcho.options(300),
                new byte[0]))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        assertThat(server(upstream).lastTimeout()).isNotNull();
        await().atMost(Duration.ofSeconds(5)).until(() -> server(upstream).cancelled() > before);
    }

    /** No deadline: only the client's RST_STREAM, relayed by the proxy, can tell the server. */
    @ParameterizedTest
    @ValueSource(strings = {"tls", "h2c"})
    void aClientCancelReachesTheServer(String upstream) {
        int before = server(upstream).cancelled();
        var future = ClientCalls.futureUnaryCall(via(upstream).newCall(GrpcEcho.HANG, CallOptions.DEFAULT), new byte[0]);
        await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> true);
        future.cancel(true);
        await().atMost(Duration.ofSeconds(5)).until(() -> server(upstream).cancelled() > before);
    }

    private static StreamObserver<byte[]> observer(CompletableFuture<byte[]> result, AtomicInteger count) {
        return new StreamObserver<>() {
            byte[] last;

            @Override
            public void onNext(byte[] value) {
                last = value;
                if (count != null) {
                    count.incrementAndGet();
                }
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                result.complete(last);
            }
        };
    }
}
