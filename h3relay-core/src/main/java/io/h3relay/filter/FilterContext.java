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

    /**
     * Starts another exchange in the background, for {@code request} (bodiless, owned by the callee from
     * here), on this exchange's listener and event loop: it runs like any request (filters, routing,
     * forwarding; observers see it, the access log logs it) and its response is dropped once the filters saw
     * it. For work this exchange must not wait for: a cache refreshing the stale entry it just served. Returns
     * the new exchange before it starts (it starts in a later task of this loop), so that the caller can
     * leave it an {@link io.h3relay.exchange.ExchangeAttribute}.
     */
    FilterContext spawn(io.netty.handler.codec.http.FullHttpRequest request);
}
