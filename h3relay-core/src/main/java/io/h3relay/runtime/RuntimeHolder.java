package io.h3relay.runtime;

import java.util.Objects;

/**
 * The one reference to the current {@link Runtime}. Readers (each new exchange, through its listener;
 * telemetry and the admin surface) take whatever is current with one volatile read; the server swaps it
 * whole when it applies a config, under its own lock (one writer at a time).
 */
public final class RuntimeHolder {
    private volatile Runtime current;

    public RuntimeHolder(Runtime initial) {
        this.current = Objects.requireNonNull(initial);
    }

    public Runtime current() {
        return current;
    }

    /** The listener's part of the current runtime. */
    public ListenerRuntime listener(String name) {
        return current.listener(name);
    }

    /** Puts {@code next} in service for every exchange that starts from now on; returns the one it replaces. */
    public Runtime swap(Runtime next) {
        Runtime previous = current;
        current = Objects.requireNonNull(next);
        return previous;
    }
}
