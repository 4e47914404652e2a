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

    /**
     * The protocol the attempt speaks to its endpoint: its stream's once it has one, else its pool's (the
     * cluster's protocol). The access log, the {@code protocol} label and the client span show it.
     */
    default io.h3relay.upstream.UpstreamProtocol protocol() {
        return io.h3relay.upstream.UpstreamProtocol.HTTP_1_1;
    }

    /** Why the attempt failed, or null (succeeded, still running, or abandoned by the exchange). */
    ProxyError failure();

    /** True when the attempt used a pooled keep-alive connection rather than a fresh one. */
    boolean reusedConnection();
}
