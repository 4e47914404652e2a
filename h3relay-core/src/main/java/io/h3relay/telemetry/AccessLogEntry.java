package io.h3relay.telemetry;

import io.h3relay.proxy.ExchangeView;

import java.net.InetAddress;
import java.time.Instant;

/**
 * One access log line's values, captured on the event loop when the exchange completes; formatting waits
 * for the writer thread.
 */
record AccessLogEntry(long epochMillis, String listener, String protocol, String client, String method,
                      String authority, String path, String route, int status, long bytesIn, long bytesOut,
                      long durationMicros, String endpoint, int attempts, String requestId, String traceId,
                      String error) {

    static AccessLogEntry of(ExchangeView ex) {
        InetAddress client = ex.clientAddress();
        return new AccessLogEntry(ex.startEpochMillis(), ex.listenerName(), ex.protocol().metricName(),
                client == null ? null : client.getHostAddress(), ex.method(), ex.authority(), ex.target(),
                ex.route() == null ? null : ex.route().name(), ex.status(), ex.requestBodyBytes(),
                ex.responseBodyBytes(), (System.nanoTime() - ex.startNanos()) / 1000,
                ex.lastEndpoint() == null ? null : ex.lastEndpoint().toString(), ex.attempts(), ex.requestId(),
                ex.traceId(), ex.errorCode() == null ? null : ex.errorCode().code());
    }

    /** One JSON object, no newline. */
    void appendJson(StringBuilder out) {
        StringBuilder o = out.append('{');
        Json.field(o, "time", Instant.ofEpochMilli(epochMillis).toString());
        Json.field(o, "listener", listener);
        Json.field(o, "protocol", protocol);
        Json.field(o, "client", client);
        Json.field(o, "method", method);
        Json.field(o, "authority", authority);
        Json.field(o, "path", path);
        Json.field(o, "route", route);
        Json.field(o, "status", status);
        Json.field(o, "bytes_in", bytesIn);
        Json.field(o, "bytes_out", bytesOut);
        Json.name(o, "duration_ms").append(durationMicros / 1000).append('.')
                .append(String.format("%03d", durationMicros % 1000));
        Json.field(o, "endpoint", endpoint);
        Json.field(o, "attempts", attempts);
        Json.field(o, "request_id", requestId);
        Json.field(o, "trace_id", traceId);
        Json.field(o, "error", error);
        o.append('}');
    }

    /** Space-separated, {@code -} for a missing value, the request line quoted like common log format. */
    void appendText(StringBuilder out) {
        out.append(Instant.ofEpochMilli(epochMillis)).append(' ').append(listener).append(' ').append(protocol)
                .append(' ').append(dash(client)).append(" \"").append(method).append(' ').append(path)
                .append("\" ").append(status).append(' ').append(bytesIn).append(' ').append(bytesOut).append(' ')
                .append(durationMicros / 1000).append('.').append(String.format("%03d", durationMicros % 1000))
                .append("ms route=").append(dash(route)).append(" endpoint=").append(dash(endpoint))
                .append(" attempts=").append(attempts).append(" request_id=").append(requestId)
                .append(" trace_id=").append(dash(traceId));
        if (error != null) {
            out.append(" error=").append(error);
        }
    }

    private static String dash(String s) {
        return s == null ? "-" : s;
    }
}
