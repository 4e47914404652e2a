package io.h3relay.filter;

import io.h3relay.exchange.ExchangeView;

/** An exchange as a filter sees it: everything an observer reads, plus the way back from a pause. */
public interface FilterContext extends ExchangeView {

    /**
     * Continues the phase that a filter paused, with the filter after it. From any thread: the exchange
     * goes on on its own event loop. Ignored when nothing is paused (the exchange may have ended meanwhile).
     */
    void resume();

    /**
     * Ends the pause with {@code decision}, as if the paused filter had returned it: {@link FilterResult#CONTINUE}
     * goes on with the next filter (= {@link #resume()}), a reject or respond answers the request now (what a
     * filter that waited for a lookup decides: a rate limit in Redis, a cache fill). From any thread. When
     * nothing is paused any more (the client left), the decision is dropped and a respond's response released.
     */
    void resume(FilterResult decision);
}
