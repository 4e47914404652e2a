package io.h3relay.proxy;

import io.h3relay.exchange.ProxyError;
import io.h3relay.exchange.ErrorCode;
import io.h3relay.config.LimitsConfig;
import io.h3relay.exchange.DownstreamProtocol;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;

import java.util.Iterator;
import java.util.Map;

/**
 * Checks on a request head that give the same status on every protocol: 400 for bad framing or a bad
 * Host, 414 for a long target, 431 for large headers, 413 for a declared body over the limit.
 * Each returns null when the request passes.
 */
final class RequestChecks {
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

    /** {@code hosts}: how many Host headers the request has (counted once by the exchange). */
    static ProxyError check(HttpRequest req, DownstreamProtocol protocol, LimitsConfig limits, int hosts) {
        if (req.uri().length() > limits.maxRequestLineSize()) {
            return new ProxyError(ErrorCode.URI_TOO_LONG, "request target longer than "
                    + limits.maxRequestLineSize() + " bytes");
        }
        if (headersSize(req) > limits.maxRequestHeadersSize()) {
            return new ProxyError(ErrorCode.REQUEST_HEADERS_TOO_LARGE, "request headers larger than "
                    + limits.maxRequestHeadersSize() + " bytes");
        }
        if (hosts > 1 || (hosts == 0 && protocol == DownstreamProtocol.HTTP_1_1)) {
            return new ProxyError(ErrorCode.BAD_REQUEST, hosts == 0 ? "missing Host header" : "multiple Host headers");
        }
        if (req.headers().getAll(HttpHeaderNames.CONTENT_LENGTH).size() > 1) {
            return new ProxyError(ErrorCode.BAD_REQUEST, "multiple Content-Length headers");
        }
        if ("CONNECT".equals(req.method().name())) {
            return new ProxyError(ErrorCode.METHOD_NOT_ALLOWED, "CONNECT is not supported");
        }
        return null;
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
