package io.h3relay.filter;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

import java.util.ArrayList;
import java.util.List;

/**
 * The filters of a listener, or of a listener and one of its routes, in order. Immutable, built at config
 * time and shared by every exchange; {@link #EMPTY} runs nothing and allocates nothing. The head phases
 * that may pause run through {@link #runRequest}/{@link #runRouted}, which say where a paused phase goes
 * on; the others are plain loops.
 */
public final class FilterChain {
    public static final FilterChain EMPTY = new FilterChain(new Filter[0]);
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FilterChain.class);
    private static final io.h3relay.exchange.ProxyError FAILED = new io.h3relay.exchange.ProxyError(
            io.h3relay.exchange.ErrorCode.INTERNAL_ERROR, "a filter of this route failed");

    /** The two head phases that may answer or pause. */
    public enum HeadPhase { REQUEST, ROUTED }

    private final Filter[] filters;

    private FilterChain(Filter[] filters) {
        this.filters = filters;
    }

    public static FilterChain of(List<? extends Filter> filters) {
        return filters.isEmpty() ? EMPTY : new FilterChain(filters.toArray(Filter[]::new));
    }

    /** This chain's filters, then {@code more}'s (a listener's chain with a route's). */
    public FilterChain then(FilterChain more) {
        if (more.isEmpty()) {
            return this;
        }
        if (isEmpty()) {
            return more;
        }
        List<Filter> all = new ArrayList<>(List.of(filters));
        all.addAll(List.of(more.filters));
        return of(all);
    }

    public boolean isEmpty() {
        return filters.length == 0;
    }

    public int size() {
        return filters.length;
    }

    /**
     * Runs {@code phase} from the filter at {@code from}. Returns {@link FilterResult#CONTINUE} when every
     * filter passed; a {@link FilterResult.Reject}/{@link FilterResult.Respond} to answer with; or a
     * {@link FilterResult.Paused} telling where to go on after {@link FilterContext#resume()}.
     */
    public FilterResult run(HeadPhase phase, int from, FilterContext ctx, HttpRequest head) {
        for (int i = from; i < filters.length; i++) {
            FilterResult r;
            try {
                r = phase == HeadPhase.REQUEST ? filters[i].onRequest(ctx, head) : filters[i].onRouted(ctx, head);
            } catch (RuntimeException e) {
                // A filter's bug answers 500 rather than leaving the exchange without an answer.
                LOG.error("filter {} failed on {} {}", filters[i].getClass().getSimpleName(), ctx.method(),
                        ctx.target(), e);
                return FilterResult.reject(FAILED);
            }
            if (r instanceof FilterResult.Pause) {
                return new FilterResult.Paused(phase, i + 1);
            }
            if (!(r instanceof FilterResult.Continue)) {
                return r;
            }
        }
        return FilterResult.CONTINUE;
    }

    public void onUpstreamRequest(FilterContext ctx, HttpRequest upstreamHead) {
        for (Filter f : filters) {
            f.onUpstreamRequest(ctx, upstreamHead);
        }
    }

    public void onResponseHead(FilterContext ctx, HttpResponse head) {
        for (Filter f : filters) {
            try {
                f.onResponseHead(ctx, head);
            } catch (RuntimeException e) {
                LOG.error("filter {} failed on a response head", f.getClass().getSimpleName(), e);
            }
        }
    }

    public HttpContent onRequestBody(FilterContext ctx, HttpContent part) {
        for (Filter f : filters) {
            part = f.onRequestBody(ctx, part);
        }
        return part;
    }

    public HttpContent onResponseBody(FilterContext ctx, HttpContent part) {
        for (Filter f : filters) {
            part = f.onResponseBody(ctx, part);
        }
        return part;
    }

    public void onEnd(FilterContext ctx) {
        for (Filter f : filters) {
            f.onEnd(ctx);
        }
    }
}
