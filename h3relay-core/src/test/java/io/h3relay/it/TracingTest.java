package io.h3relay.it;

import io.h3relay.testing.RecordedRequest;
import io.h3relay.testing.TestEndpoint;
import io.opentelemetry.proto.trace.v1.Span;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * OpenTelemetry tracing over h1, h2 and h3: spans reach a real OTLP/HTTP receiver, the server span continues
 * the client's traceparent, the client span is its child and its context is what the endpoint receives.
 */
class TracingTest {
    static TestEndpoint endpoint;
    static OtlpReceiver receiver;
    static RelayHarness relay;

    @BeforeAll
    static void start() throws Exception {
        endpoint = TestEndpoint.start("traced");
        receiver = new OtlpReceiver();
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: api, match: { path_prefix: / }, cluster: c }
                clusters:
                  - { name: c, endpoints: [ { address: "@EP@" } ] }
                observability:
                  access_log: { path: "off" }
                  tracing: { exporter: otlp, endpoint: "@OTLP@", sampling_ratio: 1.0, service_name: edge-test }
                """).with("LIMITS", "{}").with("EP", endpoint.address()).with("OTLP", receiver.endpoint()).start();
    }

    @AfterAll
    static void stop() {
        relay.close();
        receiver.close();
        endpoint.close();
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void continuesTheClientTraceWithAServerAndAClientSpan(Proto proto) throws Exception {
        String traceId = randomHex(16);
        String parentId = randomHex(8);
        HttpResponse<String> res = relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/items?id=7"))
                .header("traceparent", "00-" + traceId + "-" + parentId + "-01")
                .header("baggage", "tenant=acme").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).isEqualTo(200);
        RecordedRequest seen = endpoint.lastRequest();

        List<Span> trace = awaitSpans(traceId, 2);
        Span server = trace.stream().filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_SERVER).findFirst().orElseThrow();
        Span client = trace.stream().filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_CLIENT).findFirst().orElseThrow();
        assertThat(OtlpReceiver.hex(server.getParentSpanId().toByteArray())).isEqualTo(parentId);
        assertThat(client.getParentSpanId()).isEqualTo(server.getSpanId());
        assertThat(seen.header("traceparent")).hasValue("00-" + traceId + "-"
                + OtlpReceiver.hex(client.getSpanId().toByteArray()) + "-01");
        assertThat(seen.header("baggage")).hasValue("tenant=acme");
        assertThat(receiver.serviceNames.get(OtlpReceiver.hex(server.getSpanId().toByteArray()))).isEqualTo("edge-test");

        assertThat(server.getName()).isEqualTo("GET api");
        assertThat(OtlpReceiver.attribute(server, "http.request.method")).isEqualTo("GET");
        assertThat(OtlpReceiver.attribute(server, "http.route")).isEqualTo("api");
        assertThat(OtlpReceiver.attribute(server, "http.response.status_code")).isEqualTo("200");
        assertThat(OtlpReceiver.attribute(server, "network.protocol.name")).isEqualTo("http");
        assertThat(OtlpReceiver.attribute(server, "network.protocol.version")).isEqualTo(proto.via);
        assertThat(OtlpReceiver.attribute(server, "url.scheme")).isEqualTo("https");
        assertThat(OtlpReceiver.attribute(server, "url.path")).isEqualTo("/items");
        assertThat(OtlpReceiver.attribute(server, "url.query")).isEqualTo("id=7");
        assertThat(OtlpReceiver.attribute(server, "server.address")).isEqualTo("localhost");
        assertThat(OtlpReceiver.attribute(server, "server.port")).isEqualTo(Integer.toString(relay.tlsPort()));
        assertThat(OtlpReceiver.attribute(server, "h3relay.request_id")).isEqualTo(res.headers()
                .firstValue("x-request-id").orElseThrow());
        if (proto == Proto.H3) {
            assertThat(OtlpReceiver.attribute(server, "network.transport")).isEqualTo("quic");
            assertThat(OtlpReceiver.attribute(server, "h3relay.quic.connection_id")).matches("[0-9a-f]{8,40}");
        } else {
            assertThat(OtlpReceiver.attribute(server, "network.transport")).isEqualTo("tcp");
            assertThat(OtlpReceiver.attribute(server, "h3relay.quic.connection_id")).isNull();
        }

        assertThat(OtlpReceiver.attribute(client, "http.request.method")).isEqualTo("GET");
        assertThat(OtlpReceiver.attribute(client, "http.response.status_code")).isEqualTo("200");
        assertThat(OtlpReceiver.attribute(client, "server.port")).isEqualTo(Integer.toString(endpoint.port()));
        assertThat(OtlpReceiver.attribute(client, "h3relay.cluster")).isEqualTo("c");
        assertThat(OtlpReceiver.attribute(client, "h3relay.endpoint")).isEqualTo(endpoint.address());
        assertThat(client.getStartTimeUnixNano()).isGreaterThanOrEqualTo(server.getStartTimeUnixNano());
        assertThat(client.getEndTimeUnixNano()).isLessThanOrEqualTo(server.getEndTimeUnixNano());
    }

    @Test
    void startsATraceWhenTheClientSentNone() throws Exception {
        HttpResponse<String> res = relay.client(Proto.H2).send(HttpRequest.newBuilder(relay.uri(Proto.H2, "/fresh"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).isEqualTo(200);
        String traceparent = endpoint.lastRequest().header("traceparent").orElseThrow();
        String traceId = traceparent.split("-")[1];

        List<Span> trace = awaitSpans(traceId, 2);
        Span server = trace.stream().filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_SERVER).findFirst().orElseThrow();
        assertThat(server.getParentSpanId().isEmpty()).isTrue();
    }

    private static List<Span> awaitSpans(String traceId, int count) {
        return await().atMost(Duration.ofSeconds(15)).until(() -> receiver.spans.stream()
                .filter(s -> OtlpReceiver.hex(s.getTraceId().toByteArray()).equals(traceId)).toList(),
                l -> l.size() >= count);
    }

    private static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        ThreadLocalRandom.current().nextBytes(b);
        b[0] |= 1; // never all zero (invalid)
        return OtlpReceiver.hex(b);
    }
}
