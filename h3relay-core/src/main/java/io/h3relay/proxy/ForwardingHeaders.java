package io.h3relay.proxy;

import io.h3relay.config.RouteConfig;
import io.h3relay.exchange.DownstreamProtocol;
import io.h3relay.headers.TrustedNames;
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
    // The shared instances the h1 codecs' headers trust without re-validating them on every set (TrustedNames).
    public static final AsciiString X_REQUEST_ID = TrustedNames.X_REQUEST_ID;
    static final AsciiString X_FORWARDED_FOR = TrustedNames.X_FORWARDED_FOR;
    static final AsciiString X_FORWARDED_PROTO = TrustedNames.X_FORWARDED_PROTO;
    static final AsciiString X_FORWARDED_HOST = TrustedNames.X_FORWARDED_HOST;
    static final AsciiString FORWARDED = TrustedNames.FORWARDED;

    private static final AsciiString[] HOP_BY_HOP = {
            HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE, HttpHeaderNames.PROXY_CONNECTION,
    };

    private ForwardingHeaders() {
    }

    // What the one pass over the fields found, besides what it removed (see scan).
    private static final int HAS_XFF = 1;
    private static final int HAS_XFP = 2;
    private static final int HAS_XFH = 4;
    private static final int HAS_FORWARDED = 8;
    private static final int HAS_VIA = 16;
    private static final int HAS_REQUEST_ID = 32;

    /**
     * Removes Connection and the headers it names, the fixed hop-by-hop set, Proxy-*, and the x-http2-* /
     * x-http3-* extension headers Netty's frame-to-HttpObject adapters add (stream id, scheme): they
     * describe our downstream stream, not the request, and must not reach the endpoint.
     *
     * <p>One pass over the fields finds what to remove; only names that are there are removed (five removals
     * of absent names, each a hash lookup, ran on every request and every response before).
     */
    static void removeHopByHop(HttpHeaders h) {
        scan(h);
    }

    /**
     * {@link #removeHopByHop}, and in the same pass over the fields, which of the headers this class adds
     * were there already ({@code HAS_*} bits): an absent one is added without the lookup of a prior value
     * and without {@code set}'s removal, a hash lookup each (eight per request and two per response before).
     * A bit may stay set for a field the Connection header named and the pass removed: the caller then takes
     * the general path (get, then set), which is right either way.
     */
    private static int scan(HttpHeaders h) {
        List<CharSequence> remove = null;
        boolean te = false;
        int present = 0;
        // By CharSequence: the String view would turn every name into a String on every request.
        for (var it = h.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            CharSequence n = e.getKey();
            int known = known(n);
            if (known != 0) {
                present |= known;
            } else if (n.length() == 2 && AsciiString.contentEqualsIgnoreCase(n, HttpHeaderNames.TE)) {
                te = true;
            } else if (isHopByHop(n)) {
                if (remove == null) {
                    remove = new ArrayList<>(4);
                }
                remove.add(n);
                if (n.length() == 10 && AsciiString.contentEqualsIgnoreCase(n, HttpHeaderNames.CONNECTION)) {
                    remove = connectionTokens(e.getValue(), remove);
                }
            }
        }
        if (remove != null) {
            remove.forEach(h::remove);
        }
        // TE is hop-by-hop too, but "trailers" is what h2/h3 endpoints (gRPC) need to see: the upstream
        // stream drops it when its protocol has no use for it (h1).
        if (te) {
            String v = h.get(HttpHeaderNames.TE);
            if (v != null && !HttpHeaderValues.TRAILERS.contentEqualsIgnoreCase(v.trim())) {
                h.remove(HttpHeaderNames.TE);
            }
        }
        return present;
    }

    /** The {@code HAS_*} bit of a name this class adds, or 0 (by length first: most names cost one compare). */
    private static int known(CharSequence n) {
        return switch (n.length()) {
            case 3 -> AsciiString.contentEqualsIgnoreCase(n, HttpHeaderNames.VIA) ? HAS_VIA : 0;
            case 9 -> AsciiString.contentEqualsIgnoreCase(n, FORWARDED) ? HAS_FORWARDED : 0;
            case 12 -> AsciiString.contentEqualsIgnoreCase(n, X_REQUEST_ID) ? HAS_REQUEST_ID : 0;
            case 15 -> AsciiString.contentEqualsIgnoreCase(n, X_FORWARDED_FOR) ? HAS_XFF : 0;
            case 16 -> AsciiString.contentEqualsIgnoreCase(n, X_FORWARDED_HOST) ? HAS_XFH : 0;
            case 17 -> AsciiString.contentEqualsIgnoreCase(n, X_FORWARDED_PROTO) ? HAS_XFP : 0;
            default -> 0;
        };
    }

    private static boolean isHopByHop(CharSequence n) {
        for (AsciiString name : HOP_BY_HOP) {
            if (n.length() == name.length() && AsciiString.contentEqualsIgnoreCase(n, name)) {
                return true;
            }
        }
        return startsWithIgnoreCase(n, "proxy-") || startsWithIgnoreCase(n, "x-http2-")
                || startsWithIgnoreCase(n, "x-http3-");
    }

    /**
     * The names a Connection value lists, added to {@code into} (made when needed); a value that is one token
     * (the usual {@code keep-alive} or {@code close}) is added as it is, without splitting it into new strings.
     */
    public static List<CharSequence> connectionTokens(CharSequence value, List<CharSequence> into) {
        int n = value.length();
        int start = 0;
        while (start <= n) {
            int comma = start;
            while (comma < n && value.charAt(comma) != ',') {
                comma++;
            }
            int a = start;
            int b = comma;
            while (a < b && isOws(value.charAt(a))) {
                a++;
            }
            while (b > a && isOws(value.charAt(b - 1))) {
                b--;
            }
            if (b > a) {
                if (into == null) {
                    into = new ArrayList<>(2);
                }
                into.add(a == 0 && b == n ? value : value.subSequence(a, b));
            }
            start = comma + 1;
        }
        return into;
    }

    private static boolean isOws(char c) {
        return c <= ' '; // what String.trim() took off: spaces, tabs and control characters
    }

    /** {@code prefix} is lower-case ASCII. */
    private static boolean startsWithIgnoreCase(CharSequence s, String prefix) {
        int n = prefix.length();
        if (s.length() < n) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Rewrites a downstream request's headers for the upstream request.
     *
     * Framing (Transfer-Encoding) is the upstream stream's business. {@code host}: the request's Host
     * (h2/h3: :authority), as the exchange read it.
     */
    static void toUpstream(HttpHeaders h, DownstreamProtocol protocol, boolean tls, InetAddress client,
                           String host, String requestId, RouteConfig.HeaderOps ops) {
        int present = scan(h);
        // RFC 5952 text (::1), never getHostAddress()'s long form with a %scope (QUIC's peer addresses carry %0).
        String clientIp = client == null ? null : NetUtil.toAddressString(client);
        String proto = tls ? "https" : "http";
        if (clientIp != null) {
            if ((present & HAS_XFF) == 0) {
                h.add(X_FORWARDED_FOR, clientIp);
            } else {
                String prior = h.get(X_FORWARDED_FOR);
                h.set(X_FORWARDED_FOR, prior == null || prior.isBlank() ? clientIp : prior + ", " + clientIp);
            }
        }
        setOrAdd(h, X_FORWARDED_PROTO, proto, present, HAS_XFP);
        if (host != null) {
            setOrAdd(h, X_FORWARDED_HOST, host, present, HAS_XFH);
        }
        StringBuilder fwd = new StringBuilder(64);
        if (client != null) {
            fwd.append("for=");
            if (client instanceof Inet6Address) {
                fwd.append("\"[").append(clientIp).append("]\"");
            } else {
                fwd.append(clientIp);
            }
            fwd.append(';');
        }
        if (host != null) {
            fwd.append("host=");
            appendQuotedIfNeeded(fwd, host);
            fwd.append(';');
        }
        fwd.append("proto=").append(proto);
        if ((present & HAS_FORWARDED) == 0) {
            h.add(FORWARDED, fwd.toString());
        } else {
            String priorForwarded = h.get(FORWARDED);
            if (priorForwarded != null && !quotesClosed(priorForwarded)) {
                // An unterminated quoted-string would swallow the element we append (our for= would be read as
                // part of the client's value): a malformed Forwarded from the client is dropped, not extended.
                h.remove(FORWARDED);
            }
            appendList(h, FORWARDED, fwd.toString());
        }
        appendVia(h, via(protocol.viaVersion()), present);
        setOrAdd(h, X_REQUEST_ID, requestId, present, HAS_REQUEST_ID);
        apply(h, ops);
    }

    /** Rewrites an upstream response's headers for the downstream response (framing is set by the caller). */
    static void toDownstream(HttpHeaders h, String upstreamVersion, String requestId, RouteConfig.HeaderOps ops) {
        int present = scan(h);
        appendVia(h, via(upstreamVersion), present);
        if ((present & HAS_REQUEST_ID) == 0 || !h.contains(X_REQUEST_ID)) {
            h.add(X_REQUEST_ID, requestId);
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

    /** Via: added when the scan found none, else appended to what is there. */
    private static void appendVia(HttpHeaders h, String value, int present) {
        if ((present & HAS_VIA) == 0) {
            h.add(HttpHeaderNames.VIA, value);
        } else {
            appendList(h, HttpHeaderNames.VIA, value);
        }
    }

    /** {@code set}, or {@code add} when the scan found no such field (no removal to look for). */
    private static void setOrAdd(HttpHeaders h, AsciiString name, String value, int present, int bit) {
        if ((present & bit) == 0) {
            h.add(name, value);
        } else {
            h.set(name, value);
        }
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

    /** {@code v} as a Forwarded token, or as a quoted-string (backslash and quote escaped) when it is not one. */
    private static void appendQuotedIfNeeded(StringBuilder sb, String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (!(Character.isLetterOrDigit(c) || c == '.' || c == '-' || c == '_' || c == '~')) {
                sb.append('"');
                for (int j = 0; j < v.length(); j++) {
                    char d = v.charAt(j);
                    if (d == '\\' || d == '"') {
                        sb.append('\\');
                    }
                    sb.append(d);
                }
                sb.append('"');
                return;
            }
        }
        sb.append(v);
    }
}
