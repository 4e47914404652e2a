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

    /** A whole response: status, Content-Type and body. */
    record Response(int status, String contentType, byte[] body) {
    }
}
