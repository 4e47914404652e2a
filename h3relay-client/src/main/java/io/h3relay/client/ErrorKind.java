package io.h3relay.client;

/** Why a request got no complete response. The names are what {@code bench} reports errors under. */
public enum ErrorKind {
    /** The connection could not be opened (refused, unreachable, name not resolved, nobody answered in time). */
    CONNECT("connect"),
    /** The TLS (or QUIC) handshake failed, e.g. an untrusted certificate. */
    TLS("tls"),
    /** No complete response within the time allowed. */
    TIMEOUT("timeout"),
    /** The peer reset the stream or the connection. */
    RESET("reset"),
    /** The connection closed (or went away) before the response ended. */
    CLOSED("closed"),
    /** The response could not be parsed. */
    PROTOCOL("protocol");

    private final String label;

    ErrorKind(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
