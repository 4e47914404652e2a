package io.h3relay.filter;

import io.h3relay.exchange.ExchangeView;

/** An exchange as a filter sees it: everything an observer reads, plus the way back from a pause. */
public interface FilterContext extends ExchangeView {

    /**
     * Continues the phase that a filter paused, with the filter after it. From any thread: the exchange
     * goes on on its own event loop. Ignored when nothing is paused (the exchange may have ended meanwhile).
     */
    void resume();
}
