package io.h3relay.proxy;

import io.h3relay.config.RouteConfig;
import io.h3relay.exchange.DownstreamProtocol;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import io.netty.util.NetUtil;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Header rewriting between downstream and upstream, protocol-neutral (framing is the sessions' and streams'
 * business): hop-by-hop removal (RFC 9110 §7.6.1), forwarding
 * headers (X-Forwarded-*, Forwarded, Via), the request id, and a route's add/remove lists.
 */
public final class ForwardingHeaders {
    static final String PSEUDONYM = "h3relay";
    public static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    static final AsciiString FORWARDED = AsciiString.cached("forwarded");

    private static final AsciiString[] HOP_BY_HOP = {
            HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE, HttpHeaderNames.PROXY_CONNECTION,
    };

    private ForwardingHeaders() {
    }

    /**
     * Removes Connection and the headers it names, the fixed hop-by-hop set, Proxy-*, and the x-http2-* /
     * x-http3-* extension headers Netty's frame-to-HttpObject adapters add (stream id, scheme): they
     * describe our downstream stream, not the request, and must not reach the endpoint.
     */
    static void removeHopByHop(HttpHeaders h) {
        for (String value : h.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : value.split(",")) {
                String t = token.trim();
                if (!t.isEmpty()) {
                    h.remove(t);
                }
            }
        }
        for (AsciiString name : HOP_BY_HOP) {
            h.remove(name);
        }
        // TE is hop-by-hop too, but "trailers" is what h2/h3 endpoints (gRPC) need to see: the upstream
        // stream drops it when its protocol has no use for it (h1).
        String te = h.get(HttpHeaderNames.TE);
        if (te != null && !HttpHeaderValues.TRAILERS.contentEqualsIgnoreCase(te.trim())) {
            h.remove(HttpHeaderNames.TE);
        }
        List<String> extra = null;
        for (Map.Entry<String, String> e : h) {
            String n = e.getKey();
            if (n.regionMatches(true, 0, "proxy-", 0, 6) || n.regionMatches(true, 0, "x-http2-", 0, 8)
                    || n.regionMatches(true, 0, "x-http3-", 0, 8)) {
                if (extra == null) {
                    extra = new ArrayList<>();
                }
                extra.add(n);
            }
        }
        if (extra != null) {
            extra.forEach(h::remove);
        }
    }

    /**
     * Rewrites a downstream request's headers for the upstream request.
     *
     * Framing (Transfer-Encoding) is the upstream stream's business. {@code host}: the request's Host
     * (h2/h3: :authority), as the exchange read it.
     */
    static void toUpstream(HttpHeaders h, DownstreamProtocol protocol, boolean tls, InetAddress client,
                           String host, String requestId, RouteConfig.HeaderOps ops) {
        removeHopByHop(h);
        // RFC 5952 text (::1), never getHostAddress()'s long form with a %scope (QUIC's peer addresses carry %0).
        String clientIp = client == null ? null : NetUtil.toAddressString(client);
        String proto = tls ? "https" : "http";
        if (clientIp != null) {
            String prior = h.get(X_FORWARDED_FOR);
            h.set(X_FORWARDED_FOR, prior == null || prior.isBlank() ? clientIp : prior + ", " + clientIp);
        }
        h.set(X_FORWARDED_PROTO, proto);
        if (host != null) {
            h.set(X_FORWARDED_HOST, host);
        }
        StringBuilder fwd = new StringBuilder(64);
        if (client != null) {
            fwd.append("for=").append(client instanceof Inet6Address ? "\"[" + clientIp + "]\"" : clientIp).append(';');
        }
        if (host != null) {
            fwd.append("host=").append(quoteIfNeeded(host)).append(';');
        }
        fwd.append("proto=").append(proto);
        String priorForwarded = h.get(FORWARDED);
        if (priorForwarded != null && !quotesClosed(priorForwarded)) {
            // An unterminated quoted-string would swallow the element we append (our for= would be read as
            // part of the client's value): a malformed Forwarded from the client is dropped, not extended.
            h.remove(FORWARDED);
        }
        appendList(h, FORWARDED, fwd.toString());
        appendList(h, HttpHeaderNames.VIA, via(protocol.viaVersion()));
        h.set(X_REQUEST_ID, requestId);
        apply(h, ops);
    }

    /** Rewrites an upstream response's headers for the downstream response (framing is set by the caller). */
    static void toDownstream(HttpHeaders h, String upstreamVersion, String requestId, RouteConfig.HeaderOps ops) {
        removeHopByHop(h);
        appendList(h, HttpHeaderNames.VIA, via(upstreamVersion));
        if (!h.contains(X_REQUEST_ID)) {
            h.set(X_REQUEST_ID, requestId);
        }
        apply(h, ops);
    }

    static void apply(HttpHeaders h, RouteConfig.HeaderOps ops) {
        if (ops == null || ops.isEmpty()) {
            return;
        }
        for (String name : ops.remove()) {
            h.remove(name);
        }
        for (Map.Entry<String, String> e : ops.add().entrySet()) {
            h.set(e.getKey(), e.getValue());
        }
    }

    private static final String VIA_1_1 = "1.1 " + PSEUDONYM;
    private static final String VIA_2 = "2 " + PSEUDONYM;
    private static final String VIA_3 = "3 " + PSEUDONYM;

    /** Our Via element for a protocol version: the common ones made once, not per request. */
    static String via(String version) {
        return switch (version) {
            case "1.1" -> VIA_1_1;
            case "2" -> VIA_2;
            case "3" -> VIA_3;
            default -> version + " " + PSEUDONYM;
        };
    }

    private static void appendList(HttpHeaders h, CharSequence name, String value) {
        String prior = h.get(name);
        h.set(name, prior == null || prior.isBlank() ? value : prior + ", " + value);
    }

    /** True when every quoted-string in {@code v} ends (RFC 9110 quoted-string, backslash escapes). */
    static boolean quotesClosed(String v) {
        boolean quoted = false;
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (quoted && c == '\\') {
                i++;
            } else if (c == '"') {
                quoted = !quoted;
            }
        }
        return !quoted;
    }

    private static String quoteIfNeeded(String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (!(Character.isLetterOrDigit(c) || c == '.' || c == '-' || c == '_' || c == '~')) {
                return "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
            }
        }
        return v;
    }
}
