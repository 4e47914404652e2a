package io.h3relay.exchange;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;

/**
 * Responses the proxy makes itself: the JSON error envelope (the same bytes on every protocol) and
 * direct responses of {@code respond} routes.
 */
public final class LocalResponses {
    private LocalResponses() {
    }

    /** {@code {"error":{"status":502,"code":"upstream_connect_failed","message":"…","request_id":"…"}}} */
    public static FullHttpResponse error(ByteBufAllocator alloc, ErrorCode code, String message, String requestId) {
        String json = "{\"error\":{\"status\":" + code.status()
                + ",\"code\":\"" + code.code()
                + "\",\"message\":\"" + jsonEscape(message)
                + "\",\"request_id\":\"" + jsonEscape(requestId == null ? "" : requestId) + "\"}}\n";
        FullHttpResponse res = of(alloc, code.status(), json);
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        res.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        return res;
    }

    public static FullHttpResponse of(ByteBufAllocator alloc, int status, String body) {
        ByteBuf content;
        if (body.isEmpty()) {
            content = io.netty.buffer.Unpooled.EMPTY_BUFFER;
        } else {
            content = alloc.buffer(body.length());
            content.writeCharSequence(body, StandardCharsets.UTF_8);
        }
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                content);
        res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        return res;
    }

    /** The inside of a JSON string literal for {@code s}. */
    public static String jsonEscape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }
}
