package io.h3relay.server;

/** The server could not start (bad TLS material, address in use, ...); nothing is left running. */
public final class StartException extends Exception {
    public StartException(String message, Throwable cause) {
        super(message, cause);
    }
}
