package io.h3relay.client;

/** A request in flight that can be abandoned: h1 closes the connection, h2 and h3 reset the stream. */
@FunctionalInterface
public interface Cancellable {
    void cancel();
}
