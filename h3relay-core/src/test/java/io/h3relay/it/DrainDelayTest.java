package io.h3relay.it;

import io.h3relay.testing.Http3TestClient;
import io.h3relay.testing.TestEndpoint;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code shutdown.drain_delay}, as a load balancer sees it: from {@code POST /drain} (or SIGTERM) on,
 * {@code /readyz} answers 503 while requests are served exactly as before, on open and on new connections
 * (h1 keeps its connection alive, h2 gets no GOAWAY, nobody gets a 503); when the delay is over, or cut
 * short as a second signal does, the drain proper runs as {@link DrainTest} describes.
 */
class DrainDelayTest {
    TestEndpoint endpoint;
    RelayHarness relay;

    private void start(String delay) {
        endpoint = TestEndpoint.start("delayed");
        relay = RelayHarness.yaml(RelayHarness.LISTENERS.replace("drain_timeout: 2s",
                "drain_delay: " + delay + ", drain_timeout: 20s") + """
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                """).with("LIMITS", "{}").with("EP", endpoint.address()).start();
    }

    @AfterEach
    void stop() {
        if (relay != null) {
            relay.close();
        }
        if (endpoint != null) {
            endpoint.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void duringTheDelayReadyzIs503AndRequestsAreServedAsUsual(Proto proto) throws Exception {
        start("60s"); // far longer than the test: the delay is ended below, as a second SIGTERM does
        HttpClient open = relay.client(proto);
        assertThat(send(open, proto, "/before").statusCode()).isEqualTo(200);

        assertThat(postDrain()).isEqualTo(202);
        assertThat(readyz()).as("not ready at once").isEqualTo(503);
        assertThat(postDrain()).as("a drain was already asked for").isEqualTo(409);

        HttpResponse<String> sameConnection = send(open, proto, "/during");
        assertThat(sameConnection.statusCode()).isEqualTo(200);
        assertThat(sameConnection.headers().firstValue("x-endpoint")).hasValue("delayed");
        assertThat(sameConnection.headers().firstValue("retry-after")).isEmpty();
        try (HttpClient fresh = newClient(proto)) {
            HttpResponse<String> newConnection = send(fresh, proto, "/during-new");
            assertThat(newConnection.statusCode()).as("a client the load balancer still sends is served").isEqualTo(200);
            assertThat(newConnection.headers().firstValue("x-endpoint")).hasValue("delayed");
        }
        assertThat(readyz()).isEqualTo(503);
        assertThat(relay.server().isDraining()).isFalse();

        CompletableFuture<HttpResponse<byte[]>> inFlight = startSlow(open, proto, "chunks=10&interval=150&size=1000");
        assertThat(relay.server().skipDrainDelay()).isTrue();
        assertDrainProperFollows(proto, inFlight);
    }

    @Test
    void http1KeepsItsConnectionAliveDuringTheDelayThenClosesItInTheDrain() {
        start("60s");
        try (RawHttp1 conn = RawHttp1.tls(relay)) {
            assertThat(conn.send(get("/before")).readResponse().status()).isEqualTo(200);
            assertThat(postDrain()).isEqualTo(202);
            for (int i = 0; i < 3; i++) {
                RawHttp1.Response res = conn.send(get("/during-" + i)).readResponse();
                assertThat(res.status()).isEqualTo(200);
                assertThat(res.header("connection")).as("no Connection: close during the delay").isNull();
            }
            assertThat(conn.closedWithin(Duration.ofMillis(300))).as("kept alive").isFalse();

            relay.server().skipDrainDelay();
            assertThat(conn.closedWithin(Duration.ofSeconds(5))).as("an idle h1 connection closes in the drain")
                    .isTrue();
        }
    }

    @Test
    void http2GetsNoGoAwayDuringTheDelayThenTheTwoStepGoAway() throws Exception {
        start("60s");
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            List<Integer> goAways = new CopyOnWriteArrayList<>();
            Map<Integer, String> statuses = new ConcurrentHashMap<>();
            Map<Integer, CompletableFuture<Void>> ended = new ConcurrentHashMap<>();
            Http2FrameAdapter listener = new Http2FrameAdapter() {
                @Override
                public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debug) {
                    goAways.add(lastStreamId);
                }

                @Override
                public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                                          boolean endOfStream) {
                    if (headers.status() != null) {
                        statuses.put(streamId, headers.status().toString());
                    }
                    if (endOfStream) {
                        ended.computeIfAbsent(streamId, k -> new CompletableFuture<>()).complete(null);
                    }
                }

                @Override
                public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers,
                                          int streamDependency, short weight, boolean exclusive, int padding,
                                          boolean endOfStream) {
                    onHeadersRead(ctx, streamId, headers, padding, endOfStream);
                }

                @Override
                public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding,
                                      boolean endOfStream) {
                    if (endOfStream) {
                        ended.computeIfAbsent(streamId, k -> new CompletableFuture<>()).complete(null);
                    }
                    return data.readableBytes() + padding;
                }
            };
            Http2ConnectionHandler h2 = new Http2ConnectionHandlerBuilder().server(false).frameListener(listener).build();
            Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(h2)
                    .connect(new InetSocketAddress("127.0.0.1", relay.plainPort())).sync().channel();
            ChannelHandlerContext ctx = ch.pipeline().context(h2);
            int[] streams = {1, 3, 5};
            for (int i = 0; i < streams.length; i++) {
                if (i == 1) {
                    assertThat(postDrain()).isEqualTo(202);
                }
                int id = streams[i];
                Http2Headers h = new DefaultHttp2Headers().method("GET").path("/h2-" + id).scheme("http")
                        .authority("localhost");
                ch.eventLoop().submit(() -> {
                    h2.encoder().writeHeaders(ctx, id, h, 0, true, ctx.newPromise());
                    ctx.flush();
                }).sync();
                ended.computeIfAbsent(id, k -> new CompletableFuture<>()).get(10, TimeUnit.SECONDS);
                assertThat(statuses.get(id)).as("stream %d", id).isEqualTo("200");
            }
            assertThat(goAways).as("no GOAWAY during the delay").isEmpty();

            relay.server().skipDrainDelay();
            await().atMost(Duration.ofSeconds(5)).until(() -> goAways.size() == 2);
            assertThat(goAways.get(0)).isEqualTo(Integer.MAX_VALUE);
            assertThat(goAways.get(1)).isEqualTo(5);
            assertThat(ch.closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    @Test
    void theDrainProperStartsByItselfWhenTheDelayIsOver() throws Exception {
        start("1500ms");
        CompletableFuture<HttpResponse<byte[]>> inFlight = startSlow(relay.client(Proto.H1), Proto.H1,
                "chunks=20&interval=200&size=1000");
        long asked = System.nanoTime();
        assertThat(postDrain()).isEqualTo(202);
        assertThat(readyz()).isEqualTo(503);
        await().atMost(Duration.ofSeconds(15)).until(relay.server()::isDraining);
        assertThat(Duration.ofNanos(System.nanoTime() - asked)).as("not before the delay")
                .isGreaterThanOrEqualTo(Duration.ofMillis(1500));
        assertDrainProperFollows(Proto.H1, inFlight);
    }

    /**
     * The drain proper, as before, while {@code inFlight} holds it open: new clients get 503 draining, the
     * exchange in flight completes, and the server stops well before drain_timeout.
     */
    private void assertDrainProperFollows(Proto proto, CompletableFuture<HttpResponse<byte[]>> inFlight)
            throws Exception {
        await().atMost(Duration.ofSeconds(5)).until(() -> relay.server().listenerContext("tls").isDraining());
        try (HttpClient fresh = newClient(proto)) {
            HttpResponse<String> refused = send(fresh, proto, "/after");
            Envelope.assertError(refused.statusCode(), refused.body(), 503, "draining");
            assertThat(refused.headers().firstValue("retry-after")).hasValue("1");
        }
        assertThat(readyz()).isEqualTo(503);
        HttpResponse<byte[]> res = inFlight.get(15, TimeUnit.SECONDS);
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body()).hasSizeGreaterThanOrEqualTo(10_000);
        CompletableFuture.runAsync(relay.server()::awaitStopped).get(15, TimeUnit.SECONDS);
    }

    /** A slow streaming response, once it reached the endpoint (really in flight). */
    private CompletableFuture<HttpResponse<byte[]>> startSlow(HttpClient client, Proto proto, String query) {
        int before = endpoint.requestCount();
        CompletableFuture<HttpResponse<byte[]>> inFlight = client.sendAsync(
                HttpRequest.newBuilder(relay.uri(proto, "/slow?" + query)).build(), HttpResponse.BodyHandlers.ofByteArray());
        await().atMost(Duration.ofSeconds(5)).until(() -> endpoint.requestCount() > before);
        return inFlight;
    }

    private HttpResponse<String> send(HttpClient client, Proto proto, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(relay.uri(proto, path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpClient newClient(Proto proto) {
        return proto == Proto.H3 ? new Http3TestClient(RelayHarness.certs().caCert())
                : HttpClient.newBuilder().version(proto.version).sslContext(RelayHarness.certs().trustingSslContext())
                .build();
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    }

    private int postDrain() {
        return admin("/drain", HttpRequest.BodyPublishers.noBody(), "POST");
    }

    private int readyz() {
        return admin("/readyz", HttpRequest.BodyPublishers.noBody(), "GET");
    }

    private int admin(String path, HttpRequest.BodyPublisher body, String method) {
        URI uri = URI.create("http://127.0.0.1:" + relay.server().adminAddress().getPort() + path);
        try (HttpClient admin = HttpClient.newHttpClient()) {
            return admin.send(HttpRequest.newBuilder(uri).method(method, body).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            throw new AssertionError("admin " + method + " " + path, e);
        }
    }
}
