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
     * Continues the paused phase as if the filter that paused had returned {@code result}: {@code CONTINUE}
     * is {@link #resume()}; a {@code reject} or {@code respond} answers now (a cache answering a request
     * that waited for another's fetch). From any thread; ignored when nothing is paused. A {@code respond}
     * that is ignored is released.
     */
    void resume(FilterResult result);
}
