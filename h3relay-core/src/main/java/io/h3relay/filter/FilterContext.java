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
