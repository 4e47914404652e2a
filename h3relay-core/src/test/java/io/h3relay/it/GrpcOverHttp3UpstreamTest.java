package io.h3relay.it;

import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.h3relay.client.ClientConnection;
import io.h3relay.client.ClientTls;
import io.h3relay.client.Connector;
import io.h3relay.client.Protocol;
import io.h3relay.client.RequestFailure;
import io.h3relay.client.RequestSpec;
import io.h3relay.client.ResponseListener;
import io.h3relay.client.Target;
import io.h3relay.client.Transports;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * gRPC over HTTP/3 on the upstream side: two h3relay instances chained, the outer one's {@code http3} cluster
 * speaking to the inner one's h3 listener, which forwards to grpc-java over h2c. grpc-java's client (which
 * has no HTTP/3) talks h2 to the outer relay; one case sends the call over h3 downstream too (h3relay-client),
 * so the call is HTTP/3 on both sides of the outer relay. Unary, streams both ways, and a status with text
 * and -bin metadata (a trailers-only response) arrive intact.
 */
class GrpcOverHttp3UpstreamTest {
    static GrpcEcho server;
    static RelayHarness inner;
    static RelayHarness outer;
    static ManagedChannel channel;
    static EventLoopGroup group;
    static ClientConnection h3;

    @BeforeAll
    static void start() throws Exception {
        server = GrpcEcho.startH2c();
        inner = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: grpc, match: { path_prefix: / }, cluster: grpc }
                clusters:
                  - { name: grpc, protocol: h2c, endpoints: [ { address: "@H2C@" } ] }
                """).with("LIMITS", "{ max_request_body_size: 64MiB }").with("H2C", server.address()).start();
        outer = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: inner, match: { path_prefix: / }, cluster: inner }
                clusters:
                  - name: inner
                    protocol: http3
                    endpoints: [ { address: "localhost:@INNER@" } ]
                    tls: { verify: true, ca: "@CA@" }
                """).with("LIMITS", "{ max_request_body_size: 64MiB }").with("INNER", inner.tlsPort())
                .with("CA", RelayHarness.certs().caCertPath()).start();
        channel = GrpcEcho.tlsChannel(RelayHarness.certs(), outer.tlsPort());
        Transports transports = Transports.nio();
        group = transports.newGroup(1, "grpc-h3-upstream-test");
        Connector connector = new Connector(ClientTls.trusting(RelayHarness.certs().caCert()), transports,
                Duration.ofSeconds(10));
        h3 = connector.connect(group.next(), Target.parse(outer.tlsUrl("/")), Protocol.HTTP_3).get(10, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() {
        if (h3 != null) {
            h3.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        if (channel != null) {
            channel.shutdownNow();
        }
        if (outer != null) {
            outer.close();
        }
        if (inner != null) {
            inner.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static Channel capturing(AtomicReference<Metadata> headers, AtomicReference<Metadata> trailers) {
        return ClientInterceptors.intercept(channel, MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));
    }

    @Test
    void unaryOverTheHttp3Upstream() throws Exception {
        AtomicReference<Metadata> headers = new AtomicReference<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        byte[] res = ClientCalls.blockingUnaryCall(capturing(headers, trailers), GrpcEcho.UNARY,
                GrpcEcho.options(10_000), "through h3".getBytes());
        assertThat(new String(res)).isEqualTo("through h3");
        assertThat(trailers.get()).isNotNull();
        MetricsScrape m = MetricsScrape.of(outer);
        assertThat(m.value("h3relay_upstream_requests_total", Map.of("cluster", "inner", "protocol", "h3")))
                .isGreaterThanOrEqualTo(1);
    }

    @Test
    void statusMessageAndMetadataArriveIntact() {
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, GrpcEcho.FAIL, GrpcEcho.options(10_000),
                new byte[0]))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).isEqualTo("bad thing: ünïcode %");
                    assertThat(e.getTrailers().get(GrpcEcho.TEXT)).isEqualTo("detail text");
                    assertThat(e.getTrailers().get(GrpcEcho.BIN)).containsExactly(0, 1, 2, 0xff);
                });
    }

    @Test
    void tenThousandMessagesFromTheServer() {
        Iterator<byte[]> it = ClientCalls.blockingServerStreamingCall(channel, GrpcEcho.DOWNLOAD,
                GrpcEcho.options(60_000), ByteBuffer.allocate(4).putInt(10_000).array());
        long expected = 0;
        while (it.hasNext()) {
            assertThat(ByteBuffer.wrap(it.next()).getLong()).isEqualTo(expected++);
        }
        assertThat(expected).isEqualTo(10_000);
    }

    @Test
    void bidirectionalStreamBothWaysAtOnce() throws Exception {
        int n = 5_000;
        CompletableFuture<Integer> done = new CompletableFuture<>();
        List<byte[]> got = java.util.Collections.synchronizedList(new ArrayList<>());
        StreamObserver<byte[]> out = ClientCalls.asyncBidiStreamingCall(
                channel.newCall(GrpcEcho.CHAT, GrpcEcho.options(60_000)), new StreamObserver<>() {
                    @Override
                    public void onNext(byte[] value) {
                        got.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(got.size());
                    }
                });
        for (int i = 0; i < n; i++) {
            out.onNext(ByteBuffer.allocate(4).putInt(i).array());
        }
        out.onCompleted();
        assertThat(done.get(60, TimeUnit.SECONDS)).isEqualTo(n);
        for (int i = 0; i < n; i++) {
            assertThat(ByteBuffer.wrap(got.get(i)).getInt()).isEqualTo(i);
        }
    }

    @Test
    void sixteenMebibyteMessage() {
        byte[] big = new byte[16 << 20];
        new java.util.Random(3).nextBytes(big);
        byte[] res = ClientCalls.blockingUnaryCall(channel, GrpcEcho.UNARY, GrpcEcho.options(60_000)
                .withMaxInboundMessageSize(64 << 20).withMaxOutboundMessageSize(64 << 20), big);
        assertThat(res).isEqualTo(big);
    }

    /** HTTP/3 on both sides of the outer relay: h3relay-client sends the gRPC call over h3. */
    @Test
    void unaryAndStatusWithHttp3OnBothSides() throws Exception {
        Reply ok = callOverHttp3("Unary", "h3 both sides".getBytes());
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.messages()).singleElement().satisfies(m -> assertThat(new String(m)).isEqualTo("h3 both sides"));
        assertThat(ok.trailers()).containsEntry("grpc-status", "0");

        Reply failed = callOverHttp3("Fail", new byte[0]);
        assertThat(failed.status()).isEqualTo(200);
        Map<String, String> md = failed.trailers().isEmpty() ? failed.head() : failed.trailers();
        assertThat(md).containsEntry("grpc-status", "3")
                .containsEntry("grpc-message", "bad thing: %C3%BCn%C3%AFcode %25")
                .containsEntry("x-detail", "detail text").containsEntry("x-detail-bin", "AAEC/w");
    }

    record Reply(int status, Map<String, String> head, List<byte[]> messages, Map<String, String> trailers) {
    }

    private static Reply callOverHttp3(String method, byte[] message) throws Exception {
        byte[] framed = ByteBuffer.allocate(5 + message.length).put((byte) 0).putInt(message.length).put(message).array();
        RequestSpec spec = new RequestSpec("POST", Target.parse(outer.tlsUrl("/test.Echo/" + method)), List.of(
                new AbstractMap.SimpleEntry<>("content-type", "application/grpc"),
                new AbstractMap.SimpleEntry<>("te", "trailers")), framed);
        CompletableFuture<Reply> result = new CompletableFuture<>();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int[] status = new int[1];
        Map<String, String> head = new HashMap<>();
        h3.eventLoop().execute(() -> {
            h3.send(spec, new ResponseListener() {
                @Override
                public void onHead(int s, HeaderList headers) {
                    status[0] = s;
                    headers.all().forEach(e -> head.put(e.getKey(), e.getValue()));
                }

                @Override
                public void onData(ByteBuf data) {
                    byte[] b = new byte[data.readableBytes()];
                    data.readBytes(b);
                    body.writeBytes(b);
                }

                @Override
                public void onComplete(List<Map.Entry<String, String>> trailers) {
                    Map<String, String> t = new HashMap<>();
                    trailers.forEach(e -> t.put(e.getKey(), e.getValue()));
                    List<byte[]> messages = new ArrayList<>();
                    ByteBuffer b = ByteBuffer.wrap(body.toByteArray());
                    while (b.remaining() >= 5) {
                        b.get();
                        byte[] m = new byte[b.getInt()];
                        b.get(m);
                        messages.add(m);
                    }
                    result.complete(new Reply(status[0], head, messages, t));
                }

                @Override
                public void onFailure(RequestFailure failure) {
                    result.completeExceptionally(failure);
                }
            });
            h3.flush();
        });
        return result.get(30, TimeUnit.SECONDS);
    }
}
