package io.h3relay.telemetry;

import io.h3relay.exchange.ExchangeView;

import java.net.InetAddress;

/**
 * One access log line's values, captured on the event loop when the exchange completes (field copies only:
 * no formatting there); the writer thread formats them into a {@link LineBuffer}.
 */
record AccessLogEntry(long epochMillis, String listener, String protocol, InetAddress client, String method,
                      String authority, String path, String route, int status, long bytesIn, long bytesOut,
                      long durationMicros, String endpoint, int attempts, String requestId, String traceId,
                      String error, String upstreamProtocol) {

    static AccessLogEntry of(ExchangeView ex) {
        return new AccessLogEntry(ex.startEpochMillis(), ex.listenerName(), ex.protocol().metricName(),
                ex.clientAddress(), ex.method(), ex.authority(), ex.target(),
                ex.route() == null ? null : ex.route().name(), ex.status(), ex.requestBodyBytes(),
                ex.responseBodyBytes(), (System.nanoTime() - ex.startNanos()) / 1000,
                ex.lastEndpoint() == null ? null : ex.lastEndpoint().toString(), ex.attempts(), ex.requestId(),
                ex.traceId(), ex.errorCode() == null ? null : ex.errorCode().code(), ex.upstreamProtocol());
    }

    /** One JSON object, no newline. */
    void writeJson(LineBuffer out) {
        out.ascii("{\"time\":\"").time(epochMillis)
                .ascii("\",\"listener\":").jsonString(listener)
                .ascii(",\"protocol\":").jsonString(protocol)
                .ascii(",\"client\":");
        if (client == null) {
            out.ascii("null");
        } else {
            out.ascii('"').address(client).ascii('"');
        }
        out.ascii(",\"method\":").jsonString(method)
                .ascii(",\"authority\":").jsonString(authority)
                .ascii(",\"path\":").jsonString(path)
                .ascii(",\"route\":").jsonString(route)
                .ascii(",\"status\":").number(status)
                .ascii(",\"bytes_in\":").number(bytesIn)
                .ascii(",\"bytes_out\":").number(bytesOut)
                .ascii(",\"duration_ms\":").millis(durationMicros)
                .ascii(",\"endpoint\":").jsonString(endpoint)
                .ascii(",\"upstream_protocol\":").jsonString(upstreamProtocol)
                .ascii(",\"attempts\":").number(attempts)
                .ascii(",\"request_id\":").jsonString(requestId)
                .ascii(",\"trace_id\":").jsonString(traceId)
                .ascii(",\"error\":").jsonString(error)
                .ascii('}');
    }

    /**
     * Space-separated, {@code -} for a missing value, the request line quoted like common log format; values
     * escaped as nginx does ({@code \xHH}), so a line is always one line.
     */
    void writeText(LineBuffer out) {
        out.time(epochMillis).ascii(' ').text(listener).ascii(' ').text(protocol).ascii(' ').address(client)
                .ascii(" \"").text(method).ascii(' ').text(path).ascii("\" ").number(status).ascii(' ')
                .number(bytesIn).ascii(' ').number(bytesOut).ascii(' ').millis(durationMicros)
                .ascii("ms route=").text(route).ascii(" endpoint=").text(endpoint)
                .ascii(" upstream_protocol=").text(upstreamProtocol)
                .ascii(" attempts=").number(attempts).ascii(" request_id=").text(requestId)
                .ascii(" trace_id=").text(traceId);
        if (error != null) {
            out.ascii(" error=").text(error);
        }
    }
}
