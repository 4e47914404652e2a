package io.h3relay.exchange;

/** What a session reads of its listener while it runs (both change at runtime). */
public interface ListenerState {
    boolean isDraining();

    /** The Alt-Svc value advertising h3 on h1/h2 responses, or null. */
    String altSvc();
}
