package io.h3relay.grpc;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** What the proxy needs to know about gRPC requests and responses; see the package comment. */
public final class Grpc {
    public static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    public static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");
    public static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");
    private static final AsciiString APPLICATION_GRPC = AsciiString.cached("application/grpc");
    private static final long MAX_TIMEOUT_VALUE = 99_999_999L; // 8 digits at most

    private Grpc() {
    }

    /** A gRPC request: {@code content-type: application/grpc} or {@code application/grpc+proto} etc., not gRPC-Web. */
    public static boolean isGrpc(HttpHeaders headers) {
        String ct = headers.get(HttpHeaderNames.CONTENT_TYPE);
        if (ct == null || !ct.regionMatches(true, 0, "application/grpc", 0, 16)) {
            return false;
        }
        return ct.length() == 16 || ct.charAt(16) == '+' || ct.charAt(16) == ';';
    }

    /** {@code grpc-timeout} in nanoseconds, or -1 when absent or malformed (then it is not a deadline). */
    public static long timeoutNanos(HttpHeaders headers) {
        String v = headers.get(GRPC_TIMEOUT);
        if (v == null || v.length() < 2 || v.length() > 9) {
            return -1;
        }
        long n = 0;
        for (int i = 0; i < v.length() - 1; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        TimeUnit unit = switch (v.charAt(v.length() - 1)) {
            case 'H' -> TimeUnit.HOURS;
            case 'M' -> TimeUnit.MINUTES;
            case 'S' -> TimeUnit.SECONDS;
            case 'm' -> TimeUnit.MILLISECONDS;
            case 'u' -> TimeUnit.MICROSECONDS;
            case 'n' -> TimeUnit.NANOSECONDS;
            default -> null;
        };
        return unit == null ? -1 : unit.toNanos(n);
    }

    /** {@code nanos} as a {@code grpc-timeout} value: the finest unit whose value fits the 8 digits allowed. */
    public static String formatTimeout(long nanos) {
        long n = Math.max(0, nanos);
        if (n <= MAX_TIMEOUT_VALUE) {
            return n + "n";
        }
        long[] per = {1_000L, 1_000_000L, 1_000_000_000L, 60_000_000_000L, 3_600_000_000_000L};
        char[] units = {'u', 'm', 'S', 'M', 'H'};
        for (int i = 0; i < per.length; i++) {
            long v = (n + per[i] - 1) / per[i];
            if (v <= MAX_TIMEOUT_VALUE) {
                return v + String.valueOf(units[i]);
            }
        }
        return MAX_TIMEOUT_VALUE + "H";
    }

    /**
     * A trailers-only gRPC response: HTTP 200 with {@code content-type: application/grpc}, {@code grpc-status}
     * and the percent-encoded {@code grpc-message} in the head, no body (so it leaves as one HEADERS frame
     * with END_STREAM on h2 and h3).
     */
    public static FullHttpResponse trailersOnly(GrpcStatus status, String message) {
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.EMPTY_BUFFER);
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, APPLICATION_GRPC)
                .setInt(GRPC_STATUS, status.code());
        if (message != null && !message.isEmpty()) {
            res.headers().set(GRPC_MESSAGE, encodeMessage(message));
        }
        return res;
    }

    /** grpc-message's percent-encoding: UTF-8, with bytes outside 0x20-0x7E and '%' as %XX. */
    static String encodeMessage(String message) {
        byte[] utf8 = message.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(utf8.length + 16);
        for (byte b : utf8) {
            int c = b & 0xff;
            if (c >= 0x20 && c <= 0x7e && c != '%') {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return sb.toString();
    }
}
