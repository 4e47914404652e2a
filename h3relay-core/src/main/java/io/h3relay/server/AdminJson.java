package io.h3relay.server;

import io.h3relay.telemetry.Json;

/** The admin API's JSON error envelope, as text (see {@code io.h3relay.admin.AdminRoute#error}). */
final class AdminJson {
    private AdminJson() {
    }

    static String error(int status, String code, String message, String extra) {
        StringBuilder b = new StringBuilder("{\"error\":{\"status\":").append(status).append(",\"code\":");
        Json.string(b, code).append(",\"message\":");
        Json.string(b, message).append('}');
        if (!extra.isEmpty()) {
            b.append(',').append(extra);
        }
        return b.append("}\n").toString();
    }
}
