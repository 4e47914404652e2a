package io.h3relay.client;

import java.io.IOException;

/** A request or connection that failed, with the kind of failure (what {@code bench} counts errors by). */
public final class RequestFailure extends IOException {
    private final ErrorKind kind;

    public RequestFailure(ErrorKind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public RequestFailure(ErrorKind kind, String message) {
        this(kind, message, null);
    }

    public ErrorKind kind() {
        return kind;
    }

    /** Classifies a connection-level exception: a reset, a closed channel, a TLS problem, or a connect failure. */
    public static RequestFailure classify(Throwable t, ErrorKind fallback) {
        if (t instanceof RequestFailure f) {
            return f;
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = String.valueOf(c.getMessage()).toLowerCase(java.util.Locale.ROOT);
            if (c instanceof javax.net.ssl.SSLException || m.contains("certificate") || m.contains("handshake")) {
                return new RequestFailure(ErrorKind.TLS, describe(root(c)), t);
            }
            if (m.contains("reset by peer") || m.contains("connection reset")) {
                return new RequestFailure(ErrorKind.RESET, describe(c), t);
            }
            if (c instanceof java.net.ConnectException || c instanceof java.nio.channels.UnresolvedAddressException
                    || c instanceof java.net.UnknownHostException || m.contains("connection refused")) {
                return new RequestFailure(ErrorKind.CONNECT, describe(c), t);
            }
            if (c instanceof io.netty.channel.ConnectTimeoutException) {
                return new RequestFailure(ErrorKind.CONNECT, describe(c), t);
            }
        }
        return new RequestFailure(fallback, describe(t), t);
    }

    /** The innermost cause: for TLS it says what was wrong (e.g. the certificate path), not just "handshake failed". */
    private static Throwable root(Throwable t) {
        Throwable r = t;
        for (int i = 0; i < 20 && r.getCause() != null && r.getCause() != r; i++) {
            r = r.getCause();
        }
        return r;
    }

    private static String describe(Throwable t) {
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
