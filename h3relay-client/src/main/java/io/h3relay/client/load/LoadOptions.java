package io.h3relay.client.load;

import io.h3relay.client.ClientTls;
import io.h3relay.client.Protocol;
import io.h3relay.client.RequestSpec;

import java.time.Duration;

/**
 * One load run, frozen before it starts.
 *
 * @param protocol    null: negotiate (ALPN on https, h1 on http)
 * @param connections connections kept open, each reconnected when it closes
 * @param streams     concurrent requests per connection (h2, h3; h1 is always 1)
 * @param requests    requests to count, or 0 to run for {@code duration}
 * @param warmup      load before counting starts (not counted)
 * @param rate        requests per second over all connections (open model), or 0 for a closed loop
 * @param timeout     per request and per connect; a request slower than this counts as a timeout error
 */
public record LoadOptions(RequestSpec request, Protocol protocol, int connections, int streams, long requests,
                          Duration duration, Duration warmup, double rate, int threads, ClientTls tls,
                          Duration timeout) {

    public LoadOptions {
        if (connections < 1 || streams < 1 || threads < 1) {
            throw new IllegalArgumentException("connections, streams and threads must be >= 1");
        }
        if (requests < 0 || (requests == 0 && (duration == null || duration.isZero() || duration.isNegative()))) {
            throw new IllegalArgumentException("give a request count or a positive duration");
        }
        if (rate < 0) {
            throw new IllegalArgumentException("rate must be >= 0");
        }
    }

    public boolean openModel() {
        return rate > 0;
    }

    /** Slots per connection: h1 sends one request at a time whatever {@code streams} says. */
    int slots(Protocol negotiated) {
        return negotiated == Protocol.HTTP_1_1 ? 1 : streams;
    }
}
