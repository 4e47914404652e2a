package io.h3relay.exchange;

import io.h3relay.endpoint.Endpoint;

/** What an {@link ExchangeObserver} may read of one upstream attempt. */
public interface AttemptView {
    String clusterName();

    Endpoint endpoint();

    /** 1 for the first attempt of an exchange, 2 for the first retry, and so on. */
    int number();

    /** {@link System#nanoTime()} when the attempt started (before connecting). */
    long startNanos();

    /** The endpoint's response status, or 0 before (or without) a response head. */
    int status();

    /** Why the attempt failed, or null (succeeded, still running, or abandoned by the exchange). */
    ProxyError failure();

    /** True when the attempt used a pooled keep-alive connection rather than a fresh one. */
    boolean reusedConnection();
}
