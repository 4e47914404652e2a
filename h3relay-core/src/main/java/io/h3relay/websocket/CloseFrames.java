package io.h3relay.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The WebSocket Close frame h3relay sends itself when it ends a session (a limit, the end of a drain, or
 * HTTP/3 turned off at runtime under a session over HTTP/3),
 * so that both sides see a close code instead of a connection that just ends (1006 at the client). Towards
 * the client it is a server's frame (unmasked), towards the endpoint a client's (masked, RFC 6455 section
 * 5.3). The code is always 1001 "going away": the proxy, not either peer, ends the session; the reason
 * says which limit.
 */
public final class CloseFrames {
    /** RFC 6455 section 7.4.1: an endpoint "going away". */
    public static final int GOING_AWAY = 1001;

    private CloseFrames() {
    }

    /** The reason text for the setting that ended the session ({@code why} as the proxy logs it). */
    public static String reasonFor(String why) {
        if (why.startsWith("websocket_idle_timeout")) {
            return "idle timeout";
        }
        if (why.startsWith("max_websocket_duration")) {
            return "max duration reached";
        }
        if (why.startsWith("drain")) {
            return "proxy shutting down";
        }
        if (why.startsWith("http3_off")) {
            return "http3 turned off";
        }
        return "closed by the proxy";
    }

    /**
     * A Close frame with {@code code} and {@code reason} (at most 123 bytes of UTF-8, cut otherwise);
     * {@code masked}: as a client sends it (towards the endpoint).
     */
    public static ByteBuf close(ByteBufAllocator alloc, int code, String reason, boolean masked) {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        int textLength = Math.min(text.length, 123);
        int payload = 2 + textLength;
        ByteBuf out = alloc.buffer(2 + (masked ? 4 : 0) + payload);
        out.writeByte(0x88); // FIN + opcode 8 (Close)
        out.writeByte((masked ? 0x80 : 0) | payload);
        byte[] body = new byte[payload];
        body[0] = (byte) (code >> 8);
        body[1] = (byte) code;
        System.arraycopy(text, 0, body, 2, textLength);
        if (masked) {
            byte[] key = new byte[4];
            ThreadLocalRandom.current().nextBytes(key);
            out.writeBytes(key);
            for (int i = 0; i < payload; i++) {
                body[i] ^= key[i & 3];
            }
        }
        out.writeBytes(body);
        return out;
    }
}
