package io.h3relay.admin;

import io.netty.handler.codec.http.HttpHeaders;

/**
 * An admin resource served by another part of the proxy (metrics, introspection). It runs on the admin's
 * own worker thread, never on an event loop, so it may take a while (a scrape reads every connection).
 */
@FunctionalInterface
public interface AdminEndpoint {
    Response serve(HttpHeaders requestHeaders) throws Exception;

    /** A whole response: status, Content-Type and body. */
    record Response(int status, String contentType, byte[] body) {
    }
}
