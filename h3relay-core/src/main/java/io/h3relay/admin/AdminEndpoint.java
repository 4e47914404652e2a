package io.h3relay.admin;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;

/**
 * An admin resource served by another part of the proxy (metrics, introspection). It runs on the admin's
 * own worker thread, never on an event loop, so it may take a while (a scrape reads every connection).
 */
@FunctionalInterface
public interface AdminEndpoint {
    Response serve(HttpHeaders requestHeaders) throws Exception;

    /**
     * With the request's method and target (path and query), for endpoints that act (a cache purge); the
     * default serves every method alike through {@link #serve(HttpHeaders)}.
     */
    default Response serve(HttpMethod method, String uri, HttpHeaders requestHeaders) throws Exception {
        return serve(requestHeaders);
    }

    /**
     * Whether this endpoint answers methods other than GET and HEAD itself (a cache purge); the admin server
     * answers 405 for the others of an endpoint that does not. Changes need the admin token either way.
     */
    default boolean acts() {
        return false;
    }

    /** A whole response: status, Content-Type and body. */
    record Response(int status, String contentType, byte[] body) {
    }
}
