package io.h3relay.telemetry;

import io.h3relay.exchange.ExchangeAttribute;
import io.h3relay.filter.Filter;
import io.h3relay.filter.FilterContext;
import io.netty.handler.codec.http.HttpRequest;
import io.opentelemetry.context.Context;

/**
 * Sends the trace context upstream: the attempt's CLIENT span (made by {@link TracingObserver} in the same
 * phase, just before) in {@code traceparent}, with the client's {@code baggage}. The first filter of every
 * listener's chain when tracing is on; stateless, shared.
 */
final class TraceContextFilter implements Filter {
    /** The context of the current attempt's CLIENT span, left by the observer. */
    static final ExchangeAttribute<Context> UPSTREAM_CONTEXT = ExchangeAttribute.of("trace.upstream_context");
    static final TraceContextFilter INSTANCE = new TraceContextFilter();

    private TraceContextFilter() {
    }

    @Override
    public void onUpstreamRequest(FilterContext ctx, HttpRequest upstreamHead) {
        Context context = ctx.attribute(UPSTREAM_CONTEXT);
        if (context != null) {
            Tracing.PROPAGATOR.inject(context, upstreamHead.headers(), Tracing.SETTER);
        }
    }
}
