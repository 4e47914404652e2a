package io.h3relay.exchange;

import io.h3relay.grpc.Grpc;
import io.h3relay.grpc.GrpcStatus;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;

/**
 * Turns an error the proxy answers with into a response, in the form the client understands. Chosen once
 * per request ({@link #forRequest}), keyed on the request's content type: the JSON envelope, or for gRPC a
 * trailers-only response ({@link #GRPC}); gRPC-Web will plug in here too.
 */
@FunctionalInterface
public interface ErrorRenderer {

    FullHttpResponse render(ByteBufAllocator alloc, ProxyError error, String requestId);

    /** {@code {"error":{"status":…,"code":"…","message":"…","request_id":"…"}}} with the code's status. */
    ErrorRenderer JSON = (alloc, error, requestId) ->
            LocalResponses.error(alloc, error.code(), error.getMessage(), requestId);

    /**
     * A gRPC trailers-only response (HTTP 200; {@code grpc-status}, {@code grpc-message}): gRPC clients read
     * no JSON. The message carries the request id so that it can be found in the access log.
     */
    ErrorRenderer GRPC = (alloc, error, requestId) -> Grpc.trailersOnly(grpcStatus(error.code()),
            error.getMessage() + (requestId == null ? "" : " (request_id " + requestId + ")"));

    /** The renderer for errors answered to {@code head} (or to a request whose head could not be read). */
    static ErrorRenderer forRequest(HttpRequest head) {
        return head != null && Grpc.isGrpc(head.headers()) ? GRPC : JSON;
    }

    /** How a proxy error reads as a gRPC status. */
    static GrpcStatus grpcStatus(ErrorCode code) {
        return switch (code) {
            case ROUTE_NOT_FOUND, METHOD_NOT_ALLOWED, UPGRADE_NOT_SUPPORTED -> GrpcStatus.UNIMPLEMENTED;
            case NO_ENDPOINT_AVAILABLE, UPSTREAM_CONNECT_FAILED, UPSTREAM_TLS_FAILED, UPSTREAM_OVERLOADED,
                 UPSTREAM_RESET, DRAINING, TOO_EARLY -> GrpcStatus.UNAVAILABLE;
            case UPSTREAM_TIMEOUT, REQUEST_TIMEOUT -> GrpcStatus.DEADLINE_EXCEEDED;
            case REQUEST_BODY_TOO_LARGE, REQUEST_HEADERS_TOO_LARGE, URI_TOO_LONG -> GrpcStatus.RESOURCE_EXHAUSTED;
            case BAD_REQUEST, INTERNAL_ERROR, UPSTREAM_BAD_RESPONSE -> GrpcStatus.INTERNAL;
            case WEBSOCKET_NOT_ALLOWED, FORBIDDEN -> GrpcStatus.PERMISSION_DENIED;
            case UNAUTHORIZED -> GrpcStatus.UNAUTHENTICATED;
            case TOO_MANY_REQUESTS -> GrpcStatus.RESOURCE_EXHAUSTED;
        };
    }
}
