package io.h3relay.it;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;

/**
 * An OTLP/HTTP trace receiver on loopback: takes {@code POST /v1/traces} with a protobuf
 * {@code ExportTraceServiceRequest} (decoded with the OpenTelemetry proto classes) and keeps the spans.
 */
final class OtlpReceiver implements AutoCloseable {
    private final HttpServer server;
    final List<Span> spans = new CopyOnWriteArrayList<>();
    final Map<String, String> serviceNames = new ConcurrentHashMap<>();

    OtlpReceiver() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/traces", exchange -> {
            try (InputStream raw = exchange.getRequestBody()) {
                String encoding = exchange.getRequestHeaders().getFirst("content-encoding");
                InputStream in = "gzip".equalsIgnoreCase(encoding) ? new GZIPInputStream(raw) : raw;
                if (!"POST".equals(exchange.getRequestMethod())
                        || !"application/x-protobuf".equals(exchange.getRequestHeaders().getFirst("content-type"))) {
                    exchange.sendResponseHeaders(415, -1);
                    return;
                }
                ExportTraceServiceRequest req = ExportTraceServiceRequest.parseFrom(in);
                for (ResourceSpans rs : req.getResourceSpansList()) {
                    String service = rs.getResource().getAttributesList().stream()
                            .filter(kv -> kv.getKey().equals("service.name")).map(kv -> kv.getValue().getStringValue())
                            .findFirst().orElse("");
                    for (ScopeSpans ss : rs.getScopeSpansList()) {
                        for (Span s : ss.getSpansList()) {
                            serviceNames.put(hex(s.getSpanId().toByteArray()), service);
                            spans.add(s);
                        }
                    }
                }
                byte[] ok = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
                exchange.getResponseHeaders().set("content-type", "application/x-protobuf");
                exchange.sendResponseHeaders(200, ok.length == 0 ? -1 : ok.length);
                exchange.getResponseBody().write(ok);
            } finally {
                exchange.close();
            }
        });
        server.start();
    }

    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    static String attribute(Span s, String key) {
        for (KeyValue kv : s.getAttributesList()) {
            if (kv.getKey().equals(key)) {
                var v = kv.getValue();
                return v.hasIntValue() ? Long.toString(v.getIntValue()) : v.getStringValue();
            }
        }
        return null;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
