package io.h3relay.filter;

import io.h3relay.exchange.ProxyError;
import io.netty.handler.codec.http.FullHttpResponse;

/** What a filter decided in a head phase. */
public sealed interface FilterResult {
    /** Go on with the next filter, then the exchange. */
    FilterResult CONTINUE = new Continue();
    /** Stop here until {@link FilterContext#resume()}: the next filter runs then. */
    FilterResult PAUSE = new Pause();

    /** Answer with the error {@code error}: the JSON envelope, or a gRPC / gRPC-Web status for such requests. */
    static FilterResult reject(ProxyError error) {
        return new Reject(error);
    }

    /** Answer with {@code response} (the filter hands it over; the exchange writes and releases it). */
    static FilterResult respond(FullHttpResponse response) {
        return new Respond(response);
    }

    record Continue() implements FilterResult {
    }

    record Pause() implements FilterResult {
    }

    record Reject(ProxyError error) implements FilterResult {
    }

    record Respond(FullHttpResponse response) implements FilterResult {
    }

    /**
     * What {@link FilterChain#run} reports when a filter paused: the phase, and the filter to go on with.
     * Filters return {@link #PAUSE}, not this.
     */
    record Paused(FilterChain.HeadPhase phase, int next) implements FilterResult {
    }
}
