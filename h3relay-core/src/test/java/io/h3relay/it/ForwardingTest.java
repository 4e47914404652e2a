package io.h3relay.it;

import io.h3relay.testing.BodyPattern;
import io.h3relay.testing.RecordedRequest;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/** Forwarding over h1 and h2: headers added and removed, request ids, bodies both ways, keep-alive. */
class ForwardingTest {
    static TestEndpoint endpoint;
    static RelayHarness relay;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start("fwd");
        relay = RelayHarness.singleCluster(endpoint.address(), "{ max_request_body_size: 64MiB }");
    }

    @AfterAll
    static void stop() {
        relay.close();
        endpoint.close();
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void addsForwardingHeadersAndVia(Proto proto) throws Exception {
        HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/headers?x=1"))
                .header("x-forwarded-for", "10.9.8.7").build(), HttpResponse.BodyHandlers.ofString());

        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.version()).isEqualTo(proto.version);
        RecordedRequest seen = endpoint.lastRequest();
        assertThat(seen.uri()).isEqualTo("/headers?x=1");
        assertThat(seen.header("via")).hasValue(proto.via + " h3relay");
        assertThat(seen.header("x-forwarded-for")).hasValue("10.9.8.7, 127.0.0.1");
        assertThat(seen.header("x-forwarded-proto")).hasValue("https");
        assertThat(seen.header("x-forwarded-host")).hasValue("localhost:" + relay.tlsPort());
        assertThat(seen.header("forwarded")).hasValue("for=127.0.0.1;host=\"localhost:" + relay.tlsPort()
                + "\";proto=https");
        assertThat(seen.header("host")).hasValue("localhost:" + relay.tlsPort());
        assertThat(seen.header("x-request-id")).isPresent();
        assertThat(seen.headers()).noneMatch(h -> h.getKey().startsWith("x-http2-") || h.getKey().startsWith("x-http3-"));
        assertThat(res.headers().firstValue("via")).hasValue("1.1 h3relay");
        // h1 and h2 responses advertise h3 on the same port number; h3 responses need not.
        if (proto == Proto.H3) {
            assertThat(res.headers().firstValue("alt-svc")).isEmpty();
        } else {
            assertThat(res.headers().firstValue("alt-svc")).hasValue("h3=\":" + relay.tlsPort() + "\"; ma=86400");
        }
        assertThat(res.headers().firstValue("x-request-id")).isEqualTo(seen.header("x-request-id"));
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void propagatesAGivenRequestId(Proto proto) throws Exception {
        HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/"))
                .header("x-request-id", "req-" + proto).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(res.headers().firstValue("x-request-id")).hasValue("req-" + proto);
        assertThat(endpoint.lastRequest().header("x-request-id")).hasValue("req-" + proto);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void streamsARequestBodyToTheEndpointAndBack(Proto proto) throws Exception {
        byte[] body = BodyPattern.bytes(3 * 1024 * 1024 + 17);
        HttpResponse<byte[]> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/echo"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());

        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(sha256(res.body())).isEqualTo(BodyPattern.sha256Hex(body.length));
        assertThat(endpoint.lastRequest().bodyLength()).isEqualTo(body.length);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void streamsABodyOfUnknownLengthAsChunked(Proto proto) throws Exception {
        long n = 2 * 1024 * 1024;
        HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/sink"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> BodyPattern.inputStream(n))).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body()).contains("\"bytes\":" + n).contains(BodyPattern.sha256Hex(n));
        RecordedRequest seen = endpoint.lastRequest();
        assertThat(seen.header("transfer-encoding")).hasValue("chunked");
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void streamsLargeResponsesIntact(Proto proto) throws Exception {
        long n = 16L * 1024 * 1024 + 5;
        for (String chunked : new String[] {"", "&chunked=1"}) {
            HttpResponse<byte[]> res = relay.client(proto).send(HttpRequest.newBuilder(
                    relay.uri(proto, "/bytes?n=" + n + chunked)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.body()).hasSize((int) n);
            assertThat(sha256(res.body())).isEqualTo(BodyPattern.sha256Hex(n));
        }
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void reusesUpstreamConnections(Proto proto) throws Exception {
        int before = endpoint.connectionCount();
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isEqualTo(200);
        }
        // Sequential requests on one event loop reuse one keep-alive connection (at most one per loop).
        assertThat(endpoint.connectionCount() - before).isLessThanOrEqualTo(Runtime.getRuntime().availableProcessors());
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void headRequestsGetNoBody(Proto proto) throws Exception {
        HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/bytes?n=1000"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body()).isEmpty();
        assertThat(res.headers().firstValue("content-length")).hasValue("1000");
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
