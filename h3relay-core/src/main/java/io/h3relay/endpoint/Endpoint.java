package io.h3relay.endpoint;

import io.h3relay.config.HostPort;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One upstream address inside a cluster. Identity is the address; {@link #activeRequests()} counts
 * exchanges currently using it (least_request reads it; exchanges update it from any event loop).
 */
public final class Endpoint {
    private final HostPort address;
    /** {@code host:port}, made once: the access log and metrics name the endpoint per request. */
    private final String name;
    private final int weight;
    private final AtomicInteger activeRequests = new AtomicInteger();
    private final EndpointHealth health = new EndpointHealth();

    public Endpoint(HostPort address, int weight) {
        if (weight < 1) {
            throw new IllegalArgumentException("weight must be >= 1: " + weight);
        }
        this.address = address;
        this.name = address.toString();
        this.weight = weight;
    }

    public HostPort address() {
        return address;
    }

    public int weight() {
        return weight;
    }

    /** What active checks and outlier detection know about this endpoint. */
    public EndpointHealth health() {
        return health;
    }

    public int activeRequests() {
        return activeRequests.get();
    }

    public void requestStarted() {
        activeRequests.incrementAndGet();
    }

    public void requestFinished() {
        activeRequests.decrementAndGet();
    }

    @Override
    public String toString() {
        return name;
    }
}
