package io.h3relay.health;

import io.h3relay.endpoint.Endpoint;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

import java.time.Duration;

/** One active check: an HTTP GET of {@code path} to an endpoint, over the cluster's protocol and TLS. */
@FunctionalInterface
public interface HealthProbe {

    /**
     * Runs on {@code loop}; completes with the response status, or fails with the reason (connect refused,
     * TLS, timeout, bad response). Always completes within about {@code timeout}.
     */
    Future<Integer> probe(EventLoop loop, Endpoint endpoint, String path, Duration timeout);
}
