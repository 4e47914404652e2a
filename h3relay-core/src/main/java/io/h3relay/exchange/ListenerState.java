package io.h3relay.exchange;

/** What a session reads of its listener while it runs (both change at runtime). */
public interface ListenerState {
    boolean isDraining();

    /** Whether the server is ready (builtin readyz): not once a drain was asked for, drain_delay included. */
    default boolean isReady() {
        return !isDraining();
    }

    /** The Alt-Svc value advertising h3 on h1/h2 responses, or null. */
    String altSvc();
}
