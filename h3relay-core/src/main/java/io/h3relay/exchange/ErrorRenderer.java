package io.h3relay.exchange;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;

/**
 * Turns an error the proxy answers with into a response, in the form the client understands. Chosen once
 * per request ({@link #forRequest}); the JSON envelope is the only form today, gRPC (status in trailers)
 * and gRPC-Web plug in here, keyed on the request's content type.
 */
@FunctionalInterface
public interface ErrorRenderer {

    FullHttpResponse render(ByteBufAllocator alloc, ProxyError error, String requestId);

    /** {@code {"error":{"status":…,"code":"…","message":"…","request_id":"…"}}} with the code's status. */
    ErrorRenderer JSON = (alloc, error, requestId) ->
            LocalResponses.error(alloc, error.code(), error.getMessage(), requestId);

    /** The renderer for errors answered to {@code head} (or to a request whose head could not be read). */
    static ErrorRenderer forRequest(HttpRequest head) {
        return JSON;
    }
}
