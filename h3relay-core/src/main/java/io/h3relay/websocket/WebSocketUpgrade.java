package io.h3relay.websocket;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How a request asks for a WebSocket, and the header translation between the client's protocol and the
 * HTTP/1.1 Upgrade the endpoint gets. Netty's h2 and h3 adapters hand an extended CONNECT to us as
 * {@code CONNECT <authority>} with its {@code :protocol} and {@code :path} in the {@code x-http2-protocol} /
 * {@code x-http2-path} (h3: {@code x-http3-*}) extension headers; {@link #of} reads them.
 */
public enum WebSocketUpgrade {
    /** An ordinary request. */
    NONE,
    /** HTTP/1.1 {@code Connection: upgrade} + {@code Upgrade: websocket} (RFC 6455 section 4.1). */
    H1_UPGRADE,
    /** HTTP/2 or HTTP/3 {@code CONNECT} with {@code :protocol websocket} (RFC 8441, RFC 9220). */
    EXTENDED_CONNECT;

    static final AsciiString X_HTTP2_PROTOCOL = AsciiString.cached("x-http2-protocol");
    static final AsciiString X_HTTP2_PATH = AsciiString.cached("x-http2-path");
    static final AsciiString X_HTTP3_PROTOCOL = AsciiString.cached("x-http3-protocol");
    static final AsciiString X_HTTP3_PATH = AsciiString.cached("x-http3-path");
    /** RFC 6455 section 1.3: appended to the key before hashing. */
    private static final byte[] GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11".getBytes(StandardCharsets.US_ASCII);

    /** What {@code req} asks for. An extended CONNECT for another protocol than websocket is {@link #NONE}. */
    public static WebSocketUpgrade of(HttpRequest req) {
        HttpHeaders h = req.headers();
        if (HttpMethod.CONNECT.equals(req.method())) {
            String protocol = h.get(X_HTTP2_PROTOCOL);
            if (protocol == null) {
                protocol = h.get(X_HTTP3_PROTOCOL);
            }
            return protocol != null && protocol.equalsIgnoreCase("websocket") ? EXTENDED_CONNECT : NONE;
        }
        if (HttpMethod.GET.equals(req.method())
                && h.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
                && h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)) {
            return H1_UPGRADE;
        }
        return NONE;
    }

    /** True when the request is an extended CONNECT of any protocol (so not a plain CONNECT). */
    public static boolean isExtendedConnect(HttpRequest req) {
        return HttpMethod.CONNECT.equals(req.method())
                && (req.headers().contains(X_HTTP2_PROTOCOL) || req.headers().contains(X_HTTP3_PROTOCOL));
    }

    /**
     * An extended CONNECT's {@code :path} (the target of the WebSocket), or null. The request's URI is its
     * {@code :authority} as Netty's adapter makes it; the exchange routes on this path instead.
     */
    public static String connectPath(HttpRequest req) {
        String p = req.headers().get(X_HTTP2_PATH);
        return p != null ? p : req.headers().get(X_HTTP3_PATH);
    }

    public boolean isUpgrade() {
        return this != NONE;
    }

    /**
     * Adds to the upstream request's headers (hop-by-hop ones already removed) what makes it an HTTP/1.1
     * WebSocket Upgrade. Returns the key whose accept value the 101 must carry, or null when the client's
     * own key went through (h1: the client checks the accept value itself).
     */
    public String toUpstream(HttpHeaders h) {
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        h.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        if (this != EXTENDED_CONNECT) {
            return null;
        }
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        String key = Base64.getEncoder().encodeToString(nonce);
        h.set(HttpHeaderNames.SEC_WEBSOCKET_KEY, key);
        if (!h.contains(HttpHeaderNames.SEC_WEBSOCKET_VERSION)) {
            h.set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "13");
        }
        return key;
    }

    /**
     * Whether a {@code 101} from the endpoint completes the upgrade we asked for: {@code Upgrade: websocket},
     * and, when we made the key, the matching {@code Sec-WebSocket-Accept}.
     */
    public static boolean accepted(HttpResponse res, String key) {
        HttpHeaders h = res.headers();
        if (!h.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
            return false;
        }
        return key == null || acceptOf(key).equals(h.get(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT));
    }

    /**
     * The downstream answer to a completed upgrade, from the endpoint's 101 (hop-by-hop headers already
     * removed): h1 gets its 101 with {@code Connection}/{@code Upgrade} back; h2/h3 get a 200 without the
     * handshake's accept value (RFC 8441 section 5: the key and accept fields are not used).
     */
    public void toDownstream(HttpResponse res) {
        HttpHeaders h = res.headers();
        if (this == EXTENDED_CONNECT) {
            res.setStatus(HttpResponseStatus.OK);
            h.remove(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT);
        } else {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
            h.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        }
    }

    /**
     * Whether an upstream request head (as {@link #toUpstream} leaves it) is a WebSocket Upgrade: what an
     * HTTP/2 upstream stream turns into an extended CONNECT.
     */
    public static boolean isUpstreamUpgrade(HttpRequest head) {
        HttpHeaders h = head.headers();
        return HttpMethod.GET.equals(head.method())
                && h.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
                && h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }

    /**
     * The HTTP/1.1 {@code 101} an HTTP/2 endpoint's {@code 2xx} to an extended CONNECT stands for, so the
     * proxy's tunnel handling is the same whatever the endpoint spoke: {@code Upgrade: websocket} and the
     * {@code Sec-WebSocket-Accept} of {@code key} (the key the request carried before it became a CONNECT).
     */
    public static void asSwitchingProtocols(HttpResponse res, String key) {
        res.setStatus(HttpResponseStatus.SWITCHING_PROTOCOLS);
        HttpHeaders h = res.headers();
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        h.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        if (key != null) {
            h.set(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT, acceptOf(key));
        }
    }

    /** RFC 6455 section 4.2.2: base64(SHA-1(key + GUID)). */
    public static String acceptOf(String key) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sha1.update(key.getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(sha1.digest(GUID));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is part of every JDK", e);
        }
    }
}
