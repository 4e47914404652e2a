package io.h3relay.proxy;

import io.netty.handler.codec.http.QueryStringDecoder;

/** The request target in the forms the pipeline uses, derived once per exchange. */
final class RequestTargets {
    private RequestTargets() {
    }

    /**
     * {@code http://host/path?q} (absolute-form, h1 proxy requests) becomes {@code /path?q}; origin-form
     * and {@code *} stay as they are; anything else gets a leading slash.
     */
    static String originForm(String uri) {
        if (uri.startsWith("/")) {
            return uri;
        }
        int scheme = uri.indexOf("://");
        if (scheme > 0) {
            int slash = uri.indexOf('/', scheme + 3);
            return slash < 0 ? "/" : uri.substring(slash);
        }
        return "*".equals(uri) ? uri : "/" + uri;
    }

    /** The path of an origin-form target, as routes match it (raw: no decoding). */
    static String path(String originForm) {
        int q = originForm.indexOf('?');
        String p = q < 0 ? originForm : originForm.substring(0, q);
        int hash = p.indexOf('#');
        return hash < 0 ? p : p.substring(0, hash);
    }
}
