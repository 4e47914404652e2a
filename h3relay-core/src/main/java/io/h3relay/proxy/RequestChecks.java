package io.h3relay.proxy;

import io.h3relay.grpc.Grpc;
import io.h3relay.exchange.ProxyError;
import io.h3relay.exchange.ErrorCode;
import io.h3relay.config.LimitsConfig;
import io.h3relay.exchange.DownstreamProtocol;
import io.h3relay.websocket.WebSocketUpgrade;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;

import java.util.Iterator;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks on a request head that give the same status on every protocol: 400 for bad framing or a bad
 * Host, 414 for a long target, 431 for large headers, 413 for a declared body over the limit.
 * Each returns null when the request passes.
 */
final class RequestChecks {
    /**
     * RFC 9110 section 7.2: Host is {@code uri-host [":" port]}: a reg-name (unreserved, pct-encoded and
     * sub-delims, less the comma that would make a list), an IPv4 address or a bracketed IP literal. No
     * userinfo, no whitespace.
     */
    static final Pattern HOST = Pattern.compile(
            "(\\[[0-9A-Fa-f:.vV]+(%25[A-Za-z0-9._~-]+)?]|[A-Za-z0-9._~%!$&'()*+;=-]*)(:[0-9]*)?");
    static final Pattern ABSOLUTE_FORM = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*://");

    private RequestChecks() {
    }

    /** A head the decoder could not parse (h1): too long → 414/431, anything else → 400. */
    static ProxyError decoderFailure(DecoderResult result) {
        if (result.isSuccess()) {
            return null;
        }
        Throwable cause = result.cause();
        if (cause instanceof TooLongHttpLineException) {
            return new ProxyError(ErrorCode.URI_TOO_LONG, "request line too long");
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return new ProxyError(ErrorCode.REQUEST_HEADERS_TOO_LARGE, "request headers too large");
        }
        if (cause instanceof TooLongFrameException) {
            return new ProxyError(ErrorCode.REQUEST_HEADERS_TOO_LARGE, "request headers too large");
        }
        String why = cause == null || cause.getMessage() == null ? "malformed request" : cause.getMessage();
        return new ProxyError(ErrorCode.BAD_REQUEST, "malformed request: " + why);
    }

    /**
     * A request body the decoder could not parse (h1 chunked framing): always 400. A chunk-size line over the
     * decoder's line limit (a long chunk extension) is not a long request target, so not 414.
     */
    static ProxyError bodyDecoderFailure(DecoderResult result) {
        if (result.isSuccess()) {
            return null;
        }
        Throwable cause = result.cause();
        if (cause instanceof TooLongHttpLineException) {
            return new ProxyError(ErrorCode.BAD_REQUEST, "malformed request body: chunk-size line too long");
        }
        return decoderFailure(result);
    }

    /** {@code hosts}: how many Host headers the request has (counted once by the exchange). */
    static ProxyError check(HttpRequest req, DownstreamProtocol protocol, LimitsConfig limits, int hosts,
                            WebSocketUpgrade upgrade) {
        if (req.uri().length() > limits.maxRequestLineSize()) {
            return new ProxyError(ErrorCode.URI_TOO_LONG, "request target longer than "
                    + limits.maxRequestLineSize() + " bytes");
        }
        HttpVersion version = req.protocolVersion();
        if (version.majorVersion() != 1 || version.minorVersion() > 1) {
            return new ProxyError(ErrorCode.BAD_REQUEST, "unsupported HTTP version " + version.text());
        }
        if (!protocol.isMultiplexed() && Grpc.isGrpc(req.headers())) {
            return new ProxyError(ErrorCode.BAD_REQUEST, "gRPC needs HTTP/2 or HTTP/3; this request came over "
                    + protocol.metricName() + " (browsers: use gRPC-Web)");
        }
        String targetProblem = targetProblem(req.uri(), protocol, req.method().name());
        if (targetProblem != null) {
            return new ProxyError(ErrorCode.BAD_REQUEST, targetProblem);
        }
        if (headersSize(req) > limits.maxRequestHeadersSize()) {
            return new ProxyError(ErrorCode.REQUEST_HEADERS_TOO_LARGE, "request headers larger than "
                    + limits.maxRequestHeadersSize() + " bytes");
        }
        if (hosts > 1 || (hosts == 0 && protocol == DownstreamProtocol.HTTP_1_1)) {
            return new ProxyError(ErrorCode.BAD_REQUEST, hosts == 0 ? "missing Host header" : "multiple Host headers");
        }
        String host = req.headers().get(HttpHeaderNames.HOST);
        if (host != null && !validHost(host)) {
            return new ProxyError(ErrorCode.BAD_REQUEST, "invalid Host header");
        }
        if (host != null && protocol == DownstreamProtocol.HTTP_1_1 && isAbsoluteForm(req.uri())
                && !authorityOf(req.uri()).equalsIgnoreCase(host)) {
            return new ProxyError(ErrorCode.BAD_REQUEST, "the request target's authority differs from Host");
        }
        if (req.headers().contains(HttpHeaderNames.CONTENT_LENGTH)
                && req.headers().getAll(HttpHeaderNames.CONTENT_LENGTH).size() > 1) {
            return new ProxyError(ErrorCode.BAD_REQUEST, "multiple Content-Length headers");
        }
        if (upgrade == WebSocketUpgrade.EXTENDED_CONNECT) {
            String path = req.uri();
            if (path.isEmpty() || !path.startsWith("/")) {
                return new ProxyError(ErrorCode.BAD_REQUEST, "extended CONNECT without an origin-form :path");
            }
        } else if ("CONNECT".equals(req.method().name())) {
            // A plain CONNECT (a forward proxy's tunnel) or an extended CONNECT for another protocol.
            return new ProxyError(ErrorCode.METHOD_NOT_ALLOWED, WebSocketUpgrade.isExtendedConnect(req)
                    ? "extended CONNECT is supported for the websocket protocol only" : "CONNECT is not supported");
        }
        return null;
    }

    /**
     * Why a request target is not one we forward, or null. Never a control character, space or DEL (an h1
     * request line cannot carry them; an h2/h3 {@code :path} could, and the h1 request line we write
     * upstream must not). Origin-form starts with {@code /}; {@code *} (OPTIONS) and, on h1, absolute-form
     * ({@code scheme://authority/...}) are the other forms accepted (CONNECT's authority-form is refused
     * with 405 later).
     */
    static String targetProblem(String uri, DownstreamProtocol protocol, String method) {
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c <= 0x20 || c == 0x7f) {
                return "control character or space in the request target";
            }
        }
        if (uri.startsWith("/") || uri.equals("*") || "CONNECT".equals(method)) {
            return null;
        }
        if (protocol == DownstreamProtocol.HTTP_1_1 && isAbsoluteForm(uri)) {
            return null;
        }
        return "the request target is not origin-form (no leading /)";
    }

    /**
     * {@link #ABSOLUTE_FORM} at the start of {@code uri}, without a regex: every request passes here, and a
     * {@code Matcher} per request was among the largest allocations of the h1 path.
     */
    static boolean isAbsoluteForm(String uri) {
        int n = uri.length();
        if (n == 0 || !isAlpha(uri.charAt(0))) {
            return false;
        }
        int i = 1;
        while (i < n) {
            char c = uri.charAt(i);
            if (!(isAlpha(c) || isDigit(c) || c == '+' || c == '.' || c == '-')) {
                break;
            }
            i++;
        }
        return uri.startsWith("://", i);
    }

    /** {@link #HOST} as a whole-string match, without a regex (see {@link #isAbsoluteForm}). */
    static boolean validHost(String host) {
        int n = host.length();
        int i = 0;
        if (n > 0 && host.charAt(0) == '[') {
            // IP literal: [hex, colons, dots, v/V ... (%25 zone)?]
            i = 1;
            while (i < n && isLiteralChar(host.charAt(i))) {
                i++;
            }
            if (i == 1) {
                return false;
            }
            if (host.startsWith("%25", i)) {
                int zone = i + 3;
                i = zone;
                while (i < n && isZoneChar(host.charAt(i))) {
                    i++;
                }
                if (i == zone) {
                    return false;
                }
            }
            if (i >= n || host.charAt(i) != ']') {
                return false;
            }
            i++;
        } else {
            while (i < n && isRegNameChar(host.charAt(i))) {
                i++;
            }
        }
        if (i == n) {
            return true;
        }
        if (host.charAt(i) != ':') {
            return false;
        }
        for (i++; i < n; i++) {
            if (!isDigit(host.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isAlpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isLiteralChar(char c) {
        return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.' || c == 'v'
                || c == 'V';
    }

    private static boolean isZoneChar(char c) {
        return isAlpha(c) || isDigit(c) || c == '.' || c == '_' || c == '~' || c == '-';
    }

    private static boolean isRegNameChar(char c) {
        return isAlpha(c) || isDigit(c) || "._~%!$&'()*+;=-".indexOf(c) >= 0;
    }

    /** The authority of an absolute-form target, userinfo included (so that it differs from any valid Host). */
    private static String authorityOf(String uri) {
        int start = uri.indexOf("://") + 3;
        int end = start;
        while (end < uri.length() && "/?#".indexOf(uri.charAt(end)) < 0) {
            end++;
        }
        return uri.substring(start, end);
    }

    /** {@code declared}: the Content-Length (-1 none, -2 unreadable), parsed once by the exchange. */
    static ProxyError checkLength(long declared, LimitsConfig limits) {
        if (declared < -1) {
            return new ProxyError(ErrorCode.BAD_REQUEST, "invalid Content-Length");
        }
        if (limits.maxRequestBodySize() > 0 && declared > limits.maxRequestBodySize()) {
            return tooLarge(limits);
        }
        return null;
    }

    static ProxyError tooLarge(LimitsConfig limits) {
        return new ProxyError(ErrorCode.REQUEST_BODY_TOO_LARGE, "request body larger than "
                + limits.maxRequestBodySize() + " bytes");
    }

    /** Sum of name and value lengths plus 4 per field (": " and CRLF), roughly what h1 puts on the wire. */
    static long headersSize(HttpRequest req) {
        long n = 0;
        Iterator<Map.Entry<CharSequence, CharSequence>> it = req.headers().iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            n += e.getKey().length() + e.getValue().length() + 4;
        }
        return n;
    }
}
