package io.h3relay.exchange;

/**
 * Every error the proxy answers with itself, with its status, the side it comes from, and whether another
 * attempt could succeed. The {@link #code()} string is the {@code error.code} of the JSON envelope.
 */
public enum ErrorCode {
    BAD_REQUEST(400, Side.DOWNSTREAM, false),
    /** Authentication missing or failed (a policy; the response carries WWW-Authenticate). */
    UNAUTHORIZED(401, Side.DOWNSTREAM, false),
    /** A WebSocket upgrade on a route with {@code match.websocket: false}. */
    WEBSOCKET_NOT_ALLOWED(403, Side.DOWNSTREAM, false),
    /** A policy refused the client (IP rules, an authenticated identity without access). */
    FORBIDDEN(403, Side.DOWNSTREAM, false),
    ROUTE_NOT_FOUND(404, Side.DOWNSTREAM, false),
    METHOD_NOT_ALLOWED(405, Side.DOWNSTREAM, false),
    REQUEST_TIMEOUT(408, Side.DOWNSTREAM, false),
    REQUEST_BODY_TOO_LARGE(413, Side.DOWNSTREAM, false),
    URI_TOO_LONG(414, Side.DOWNSTREAM, false),
    /** A rate limit (the response carries Retry-After and the RateLimit headers). */
    TOO_MANY_REQUESTS(429, Side.DOWNSTREAM, false),
    /** An unsafe request that arrived in TLS early data (0-RTT, RFC 8470; http3.zero_rtt_unsafe: reject). */
    TOO_EARLY(425, Side.DOWNSTREAM, false),
    REQUEST_HEADERS_TOO_LARGE(431, Side.DOWNSTREAM, false),
    INTERNAL_ERROR(500, Side.INTERNAL, false),
    /** A WebSocket upgrade routed to an HTTP/3 cluster (RFC 9220 towards endpoints is not built). */
    UPGRADE_NOT_SUPPORTED(501, Side.INTERNAL, false),
    UPSTREAM_CONNECT_FAILED(502, Side.UPSTREAM, true),
    UPSTREAM_TLS_FAILED(502, Side.UPSTREAM, true),
    UPSTREAM_RESET(502, Side.UPSTREAM, true),
    UPSTREAM_BAD_RESPONSE(502, Side.UPSTREAM, false),
    NO_ENDPOINT_AVAILABLE(503, Side.UPSTREAM, false),
    UPSTREAM_OVERLOADED(503, Side.UPSTREAM, false),
    DRAINING(503, Side.INTERNAL, false),
    UPSTREAM_TIMEOUT(504, Side.UPSTREAM, true);

    /** Where an error comes from: the client, an endpoint, or the proxy itself. */
    public enum Side { DOWNSTREAM, UPSTREAM, INTERNAL }

    private final int status;
    private final Side side;
    private final boolean retryable;

    ErrorCode(int status, Side side, boolean retryable) {
        this.status = status;
        this.side = side;
        this.retryable = retryable;
    }

    public int status() {
        return status;
    }

    public Side side() {
        return side;
    }

    public boolean retryable() {
        return retryable;
    }

    public String code() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
