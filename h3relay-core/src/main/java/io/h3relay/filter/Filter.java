package io.h3relay.filter;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

/**
 * One filter: implements the phases it needs; the others pass. All calls come on the exchange's event loop,
 * in this order, and must not block (a filter that has to wait returns {@link FilterResult#PAUSE} and
 * calls {@link FilterContext#resume()} later):
 *
 * <pre>
 *   onRequest ─► (routing) ─► onRouted ─┬─► onUpstreamRequest ─► ... (per attempt)
 *                                       └─► onResponseHead ─► onResponseBody*
 *   onRequestBody* as request body parts go upstream
 *   onEnd, once, when the exchange ends (completed, failed or cut): release what the exchange held
 * </pre>
 * Listener filters run every phase; a route's filters join them from {@code onRouted} on. A local response
 * (404, an error, a filter's own) goes through {@code onResponseHead} too, so that response headers a
 * filter adds (CORS, rate-limit headers) are on every answer; its body then goes through
 * {@code onResponseBody} as one last part (so a compression filter encodes it like a streamed one).
 */
public interface Filter {

    /** Phase 1, the request head before routing (listener filters only). May answer or pause. */
    default FilterResult onRequest(FilterContext ctx, HttpRequest head) {
        return FilterResult.CONTINUE;
    }

    /** Phase 2, a route matched ({@link FilterContext#route()} is set). May answer or pause. */
    default FilterResult onRouted(FilterContext ctx, HttpRequest head) {
        return FilterResult.CONTINUE;
    }

    /**
     * Phase 3, an attempt is about to send {@code upstreamHead} (headers may be changed). Per attempt, on the
     * same head object each time: set headers rather than add them.
     */
    default void onUpstreamRequest(FilterContext ctx, HttpRequest upstreamHead) {
    }

    /** Phase 4, the response head is about to go downstream (headers may be changed). */
    default void onResponseHead(FilterContext ctx, HttpResponse head) {
    }

    /**
     * A request body part on its way upstream, once, as it arrives (a retry's replay of it is not filtered
     * again); returns the part to send (the same, or a replacement; a filter that replaces it releases it).
     */
    default HttpContent onRequestBody(FilterContext ctx, HttpContent part) {
        return part;
    }

    /** A response body part on its way downstream; returns the part to send (the same, or a replacement). */
    default HttpContent onResponseBody(FilterContext ctx, HttpContent part) {
        return part;
    }

    /**
     * The exchange ended, whatever way (response complete, error, client gone); once, after every other
     * phase. Per-exchange state a filter keeps in an {@link io.h3relay.exchange.ExchangeAttribute}
     * (an encoder, a cache entry being stored) is released here.
     */
    default void onEnd(FilterContext ctx) {
    }
}
