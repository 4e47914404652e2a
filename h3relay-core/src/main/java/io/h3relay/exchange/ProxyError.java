package io.h3relay.exchange;

/** An exchange failure with its {@link ErrorCode} and a message safe to show the client. */
public final class ProxyError extends Exception {
    private final ErrorCode code;

    public ProxyError(ErrorCode code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public ProxyError(ErrorCode code, String message, Throwable cause) {
        super(message, cause, false, false);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
