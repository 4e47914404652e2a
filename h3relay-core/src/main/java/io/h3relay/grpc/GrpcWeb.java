package io.h3relay.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * gRPC-Web's wire format (grpc/doc/PROTOCOL-WEB.md), as far as a proxy translating it to gRPC needs it: which
 * requests are gRPC-Web and in which mode, the content types each way, the trailer frame (flag {@code 0x80},
 * a 4-byte length, then {@code name: value\r\n} lines) that carries the trailers in the body, and base64 for
 * {@code application/grpc-web-text}. The translation itself is {@code io.h3relay.grpcweb.GrpcWebFilter}.
 */
public final class GrpcWeb {
    /** The flag byte of a trailer frame. */
    public static final int TRAILER_FLAG = 0x80;
    private static final String PREFIX = "application/grpc-web";

    /** How the body is carried: binary gRPC frames, or the same frames base64-encoded ({@code -text}). */
    public enum Mode {
        BINARY, TEXT;

        /** The response content type for this mode, with the endpoint's {@code +suffix} ({@code +proto} without one). */
        public String responseContentType(String grpcContentType) {
            String suffix = "+proto";
            if (grpcContentType != null && grpcContentType.length() > 16 && grpcContentType.charAt(16) == '+') {
                int semi = grpcContentType.indexOf(';');
                suffix = grpcContentType.substring(16, semi < 0 ? grpcContentType.length() : semi).trim();
            }
            return (this == TEXT ? PREFIX + "-text" : PREFIX) + suffix;
        }
    }

    private GrpcWeb() {
    }

    /**
     * The mode of a gRPC-Web request ({@code application/grpc-web}, {@code application/grpc-web+proto},
     * {@code application/grpc-web-text}, {@code application/grpc-web-text+proto}, any {@code +suffix} or
     * parameters), or null when the request is not gRPC-Web.
     */
    public static Mode modeOf(HttpHeaders headers) {
        String ct = headers.get(HttpHeaderNames.CONTENT_TYPE);
        if (ct == null || !ct.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
            return null;
        }
        int i = PREFIX.length();
        Mode mode = Mode.BINARY;
        if (ct.regionMatches(true, i, "-text", 0, 5)) {
            mode = Mode.TEXT;
            i += 5;
        }
        return ct.length() == i || ct.charAt(i) == '+' || ct.charAt(i) == ';' ? mode : null;
    }

    /** The gRPC content type a gRPC-Web one becomes upstream: {@code application/grpc} with the same {@code +suffix}. */
    public static String grpcContentType(String webContentType) {
        int plus = webContentType.indexOf('+');
        if (plus < 0) {
            return "application/grpc";
        }
        int semi = webContentType.indexOf(';', plus);
        return "application/grpc" + webContentType.substring(plus, semi < 0 ? webContentType.length() : semi).trim()
                .toLowerCase(Locale.ROOT);
    }

    /**
     * Trailers as a gRPC-Web trailer frame: names lower-cased, one {@code name: value\r\n} line per value
     * (pseudo-headers left out).
     */
    public static ByteBuf trailerFrame(ByteBufAllocator alloc, HttpHeaders trailers) {
        StringBuilder sb = new StringBuilder(64);
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = trailers.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            String name = e.getKey().toString();
            if (name.startsWith(":")) {
                continue;
            }
            sb.append(name.toLowerCase(Locale.ROOT)).append(": ").append(e.getValue()).append("\r\n");
        }
        byte[] block = sb.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuf frame = alloc.buffer(5 + block.length);
        frame.writeByte(TRAILER_FLAG).writeInt(block.length).writeBytes(block);
        return frame;
    }

    /**
     * An error the proxy answers a gRPC-Web request with: HTTP 200, the mode's content type, and a body that is
     * just the trailer frame with {@code grpc-status} and {@code grpc-message} (base64 in text mode). In the
     * body rather than the headers, so that a browser reads the status without {@code Access-Control-Expose-Headers}.
     */
    public static FullHttpResponse errorResponse(ByteBufAllocator alloc, Mode mode, GrpcStatus status, String message) {
        HttpHeaders trailers = io.netty.handler.codec.http.DefaultHttpHeadersFactory.trailersFactory().newHeaders();
        trailers.setInt(Grpc.GRPC_STATUS, status.code());
        if (message != null && !message.isEmpty()) {
            trailers.set(Grpc.GRPC_MESSAGE, Grpc.encodeMessage(message));
        }
        ByteBuf body = trailerFrame(alloc, trailers);
        if (mode == Mode.TEXT) {
            ByteBuf text = Base64Text.encode(body, alloc);
            body.release();
            body = text;
        }
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, mode.responseContentType(null))
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        return res;
    }

    /**
     * Base64 for {@code application/grpc-web-text}: encoding each part on its own (padded, as Envoy does, so a
     * streamed message is never held back for the next one), and a decoder that takes the text in parts of
     * any size and accepts padding at the end of any 4-character quantum (clients may encode each message on
     * its own and send them one after the other).
     */
    public static final class Base64Text {
        private static final byte[] ALPHABET =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".getBytes(StandardCharsets.US_ASCII);
        private static final byte[] VALUES = new byte[256];

        static {
            java.util.Arrays.fill(VALUES, (byte) -1);
            for (int i = 0; i < ALPHABET.length; i++) {
                VALUES[ALPHABET[i]] = (byte) i;
            }
            VALUES['-'] = 62; // the URL-safe alphabet too
            VALUES['_'] = 63;
        }

        private final byte[] quantum = new byte[4];
        private int held;
        private boolean failed;

        /** {@code in} (not released) as padded base64. */
        public static ByteBuf encode(ByteBuf in, ByteBufAllocator alloc) {
            int n = in.readableBytes();
            ByteBuf out = alloc.buffer((n + 2) / 3 * 4);
            int i = in.readerIndex();
            int end = i + n;
            while (end - i >= 3) {
                int v = (in.getUnsignedByte(i) << 16) | (in.getUnsignedByte(i + 1) << 8) | in.getUnsignedByte(i + 2);
                out.writeByte(ALPHABET[v >>> 18]).writeByte(ALPHABET[(v >>> 12) & 63])
                        .writeByte(ALPHABET[(v >>> 6) & 63]).writeByte(ALPHABET[v & 63]);
                i += 3;
            }
            if (end - i == 1) {
                int v = in.getUnsignedByte(i) << 16;
                out.writeByte(ALPHABET[v >>> 18]).writeByte(ALPHABET[(v >>> 12) & 63]).writeByte('=').writeByte('=');
            } else if (end - i == 2) {
                int v = (in.getUnsignedByte(i) << 16) | (in.getUnsignedByte(i + 1) << 8);
                out.writeByte(ALPHABET[v >>> 18]).writeByte(ALPHABET[(v >>> 12) & 63])
                        .writeByte(ALPHABET[(v >>> 6) & 63]).writeByte('=');
            }
            return out;
        }

        /**
         * Decodes the next part of the text (not released); up to 3 characters of an incomplete quantum are held
         * for the next part. Whitespace is skipped. After a character outside base64 the decoder {@link #failed()}
         * and decodes nothing more.
         */
        public ByteBuf decode(ByteBuf in, ByteBufAllocator alloc) {
            ByteBuf out = alloc.buffer((held + in.readableBytes()) / 4 * 3 + 3);
            if (failed) {
                return out;
            }
            for (int i = in.readerIndex(), end = in.writerIndex(); i < end; i++) {
                byte c = in.getByte(i);
                if (c == ' ' || c == '\r' || c == '\n' || c == '\t') {
                    continue;
                }
                if (c != '=' && VALUES[c & 0xff] < 0) {
                    failed = true;
                    return out;
                }
                quantum[held++] = c;
                if (held == 4) {
                    held = 0;
                    if (!decodeQuantum(out)) {
                        failed = true;
                        return out;
                    }
                }
            }
            return out;
        }

        private boolean decodeQuantum(ByteBuf out) {
            byte[] q = quantum;
            if (q[0] == '=' || q[1] == '=' || (q[2] == '=' && q[3] != '=')) {
                return false;
            }
            int a = VALUES[q[0] & 0xff];
            int b = VALUES[q[1] & 0xff];
            out.writeByte((a << 2) | (b >>> 4));
            if (q[2] == '=') {
                return true;
            }
            int c = VALUES[q[2] & 0xff];
            out.writeByte(((b & 15) << 4) | (c >>> 2));
            if (q[3] == '=') {
                return true;
            }
            out.writeByte(((c & 3) << 6) | VALUES[q[3] & 0xff]);
            return true;
        }

        /** Whether the text ended where it may: no characters of an incomplete quantum left, nothing invalid. */
        public boolean completeAtEnd() {
            return !failed && held == 0;
        }

        /** A character outside base64 or misplaced padding was met. */
        public boolean failed() {
            return failed;
        }
    }

    /** For callers that only have the bytes (tests, tools): a whole text body decoded, or null when it is not base64. */
    public static byte[] decodeText(byte[] text) {
        Base64Text d = new Base64Text();
        ByteBuf out = d.decode(Unpooled.wrappedBuffer(text), ByteBufAllocator.DEFAULT);
        try {
            if (!d.completeAtEnd()) {
                return null;
            }
            byte[] bytes = new byte[out.readableBytes()];
            out.readBytes(bytes);
            return bytes;
        } finally {
            out.release();
        }
    }
}
