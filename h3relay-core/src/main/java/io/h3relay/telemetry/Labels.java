package io.h3relay.telemetry;

/**
 * Label values with a bounded set of values: methods outside the standard ones become {@code other},
 * statuses become their class. Routes, clusters and endpoints come from the config; nothing the client
 * chooses (paths, hosts) ever becomes a label.
 */
final class Labels {
    static final String NO_ROUTE = "none";

    static final String[] METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE",
            "PATCH", "other"};
    static final String[] CLASSES = {"0xx", "1xx", "2xx", "3xx", "4xx", "5xx"};

    private Labels() {
    }

    /** Index into {@link #METHODS}; the last one ({@code other}) for anything non-standard. */
    static int methodIndex(String method) {
        if (method != null) {
            for (int i = 0; i < METHODS.length - 1; i++) {
                if (METHODS[i].equals(method)) {
                    return i;
                }
            }
        }
        return METHODS.length - 1;
    }

    /** Index into {@link #CLASSES}: 2 ({@code 2xx}) for 204; 0 ({@code 0xx}) when no status was sent. */
    static int classIndex(int status) {
        int c = status / 100;
        return c >= 1 && c <= 5 ? c : 0;
    }

    static String codeClass(int status) {
        return CLASSES[classIndex(status)];
    }
}
