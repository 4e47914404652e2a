package io.h3relay.tls;

/**
 * TLS material named in the config could not be turned into a usable context: a file is missing or
 * unreadable, a PEM block is malformed, a password is wrong, or a key does not match its certificate.
 * The message is meant for the operator as is ({@code path: what went wrong (file)}), so callers print
 * {@link #getMessage()} and not the stack trace.
 */
public final class TlsConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    public TlsConfigException(String message) {
        super(message);
    }

    public TlsConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
