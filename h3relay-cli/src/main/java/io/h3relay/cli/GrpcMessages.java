package io.h3relay.cli;

import io.h3relay.client.ResponseListener;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * {@code h3relay request --grpc}: the response body read as gRPC frames (a flag byte, a 4-byte length, the
 * message), in parts of any size. Each message goes to the output as its raw bytes when that is a file
 * ({@code -o}), else as one hex line; the call's outcome is its {@code grpc-status} (from the trailers, or the
 * head of a trailers-only response) and the percent-decoded {@code grpc-message}.
 */
final class GrpcMessages {
    private static final String[] NAMES = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
        "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
        "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};

    private final boolean raw;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private int messages;

    /** {@code raw}: write the messages' bytes as they are (to a file), else as hex lines (to a terminal). */
    GrpcMessages(boolean raw) {
        this.raw = raw;
    }

    /** The next part of the body; returns what to write for the messages it completed (maybe nothing). */
    byte[] feed(byte[] part) {
        pending.writeBytes(part);
        byte[] buf = pending.toByteArray();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (buf.length - i >= 5) {
            int flag = buf[i] & 0xff;
            long len = ((buf[i + 1] & 0xffL) << 24) | ((buf[i + 2] & 0xff) << 16) | ((buf[i + 3] & 0xff) << 8)
                    | (buf[i + 4] & 0xff);
            if (buf.length - i - 5 < len) {
                break;
            }
            int start = i + 5;
            int n = (int) len;
            messages++;
            if (raw) {
                out.write(buf, start, n);
            } else {
                String line = "message " + messages + " (" + n + " bytes" + ((flag & 1) != 0 ? ", compressed" : "")
                        + "): " + HexFormat.of().formatHex(buf, start, start + n) + "\n";
                out.writeBytes(line.getBytes(StandardCharsets.US_ASCII));
            }
            i = start + n;
        }
        pending.reset();
        pending.write(buf, i, buf.length - i);
        return out.toByteArray();
    }

    int messages() {
        return messages;
    }

    /** What the call came to. */
    record Outcome(boolean ok, String describe) {
    }

    Outcome outcome(int httpStatus, ResponseListener.HeaderList head, List<Map.Entry<String, String>> trailers) {
        String status = null;
        String message = null;
        for (Map.Entry<String, String> t : trailers) {
            if (t.getKey().equalsIgnoreCase("grpc-status")) {
                status = t.getValue().trim();
            } else if (t.getKey().equalsIgnoreCase("grpc-message")) {
                message = t.getValue();
            }
        }
        if (status == null && head != null) {
            status = head.get("grpc-status");
            message = head.get("grpc-message");
        }
        StringBuilder b = new StringBuilder();
        if (pending.size() > 0) {
            b.append("incomplete message at the end of the body (").append(pending.size()).append(" bytes)\n");
        }
        if (status == null) {
            b.append("grpc-status: none (HTTP ").append(httpStatus).append(")");
            return new Outcome(false, b.toString());
        }
        b.append("grpc-status: ").append(status);
        try {
            int code = Integer.parseInt(status.trim());
            if (code >= 0 && code < NAMES.length) {
                b.append(" (").append(NAMES[code]).append(")");
            }
        } catch (NumberFormatException e) {
            // shown as it came
        }
        if (message != null && !message.isEmpty()) {
            b.append("\ngrpc-message: ").append(percentDecode(message));
        }
        return new Outcome(status.equals("0") && pending.size() == 0, b.toString());
    }

    /** grpc-message's percent-encoding undone (UTF-8); a malformed escape stays as it is. */
    static String percentDecode(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length()
                    && Character.digit(s.charAt(i + 1), 16) >= 0 && Character.digit(s.charAt(i + 2), 16) >= 0) {
                out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
