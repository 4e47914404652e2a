package io.h3relay.exchange;

import io.h3relay.grpc.Grpc;
import io.h3relay.grpc.GrpcStatus;
import io.h3relay.grpc.GrpcWeb;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;

/**
 * Turns an error the proxy answers with into a response, in the form the client understands. Chosen once
 * per request ({@link #forRequest}), keyed on the request's content type: the JSON envelope, or for gRPC a
 * trailers-only response ({@link #GRPC}), for gRPC-Web a trailer frame in the body ({@link #grpcWeb}).
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

    /** gRPC-Web, binary: the status in a trailer frame, the response's whole body (see {@link GrpcWeb#errorResponse}). */
    ErrorRenderer GRPC_WEB = grpcWebRenderer(GrpcWeb.Mode.BINARY);
    /** gRPC-Web, text: the same trailer frame, base64-encoded. */
    ErrorRenderer GRPC_WEB_TEXT = grpcWebRenderer(GrpcWeb.Mode.TEXT);

    private static ErrorRenderer grpcWebRenderer(GrpcWeb.Mode mode) {
        return (alloc, error, requestId) -> GrpcWeb.errorResponse(alloc, mode, grpcStatus(error.code()),
                error.getMessage() + (requestId == null ? "" : " (request_id " + requestId + ")"));
    }

    /** The renderer for a gRPC-Web request of {@code mode}. */
    static ErrorRenderer grpcWeb(GrpcWeb.Mode mode) {
        return mode == GrpcWeb.Mode.TEXT ? GRPC_WEB_TEXT : GRPC_WEB;
    }

    /** The renderer for errors answered to {@code head} (or to a request whose head could not be read). */
    static ErrorRenderer forRequest(HttpRequest head) {
        if (head == null) {
            return JSON;
        }
        GrpcWeb.Mode web = GrpcWeb.modeOf(head.headers());
        return web != null ? grpcWeb(web) : Grpc.isGrpc(head.headers()) ? GRPC : JSON;
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
