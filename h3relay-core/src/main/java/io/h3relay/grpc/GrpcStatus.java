package io.h3relay.grpc;

/** gRPC status codes (grpc/doc/statuscodes.md); {@link #configName()} is how {@code retry.on} names them. */
public enum GrpcStatus {
    OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED,
    RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE, UNIMPLEMENTED, INTERNAL, UNAVAILABLE,
    DATA_LOSS, UNAUTHENTICATED;

    private static final GrpcStatus[] BY_CODE = values();

    /** The numeric code sent as {@code grpc-status}. */
    public int code() {
        return ordinal();
    }

    /** {@code unavailable}, {@code deadline_exceeded}, ... */
    public String configName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The status of a numeric code, or null when there is no such code. */
    public static GrpcStatus of(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /** The status of a {@code grpc-status} value, or null when absent or not a known code. */
    public static GrpcStatus parse(CharSequence value) {
        if (value == null || value.isEmpty() || value.length() > 2) {
            return null;
        }
        int n = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return null;
            }
            n = n * 10 + (c - '0');
        }
        return of(n);
    }

    /**
     * gRPC's table for an endpoint that answered a gRPC request with an HTTP status other than 200
     * (grpc/doc/http-grpc-status-mapping.md): 400 INTERNAL, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED,
     * 404 UNIMPLEMENTED, 429/502/503/504 UNAVAILABLE, anything else UNKNOWN.
     */
    public static GrpcStatus fromHttpStatus(int status) {
        return switch (status) {
            case 400 -> INTERNAL;
            case 401 -> UNAUTHENTICATED;
            case 403 -> PERMISSION_DENIED;
            case 404 -> UNIMPLEMENTED;
            case 429, 502, 503, 504 -> UNAVAILABLE;
            default -> UNKNOWN;
        };
    }
}
