package io.h3relay.server;

import java.util.List;

/**
 * A config was not applied; the runtime in service is unchanged. Either it changes settings that need a
 * restart ({@link #needsRestart()} lists them, one {@code path: old -> new} each), or the new runtime could
 * not be built (e.g. an upstream TLS file), or the server is stopping.
 */
public final class ApplyException extends Exception {
    private final List<String> needsRestart;

    ApplyException(String message, List<String> needsRestart, Throwable cause) {
        super(message, cause);
        this.needsRestart = List.copyOf(needsRestart);
    }

    static ApplyException needsRestart(List<String> changes) {
        return new ApplyException("not applied: these settings need a restart: " + String.join("; ", changes),
                changes, null);
    }

    static ApplyException failed(String why, Throwable cause) {
        return new ApplyException("not applied: " + why, List.of(), cause);
    }

    /** The settings that differ and need a restart; empty when the config was refused for another reason. */
    public List<String> needsRestart() {
        return needsRestart;
    }
}
