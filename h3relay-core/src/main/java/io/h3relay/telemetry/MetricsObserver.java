package io.h3relay.telemetry;

import io.h3relay.proxy.AttemptView;
import io.h3relay.proxy.ExchangeObserver;
import io.h3relay.proxy.ExchangeView;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * Records the metrics of every exchange of one listener. Stateless (all state is in the exchange and the
 * metrics), so one instance serves every exchange of the listener and costs no allocation per request.
 */
final class MetricsObserver implements ExchangeObserver {
    private final DownstreamMetrics.ListenerSeries downstream;
    private final UpstreamMetrics upstream;

    MetricsObserver(DownstreamMetrics.ListenerSeries downstream, UpstreamMetrics upstream) {
        this.downstream = downstream;
        this.upstream = upstream;
    }

    @Override
    public void requestReceived(ExchangeView ex) {
        downstream.active(ex.protocol()).increment();
    }

    @Override
    public void upstreamRequest(ExchangeView ex, AttemptView attempt, HttpHeaders upstreamHeaders) {
        upstream.attemptStarted(attempt.clusterName(), attempt.number());
    }

    @Override
    public void attemptEnded(ExchangeView ex, AttemptView attempt) {
        upstream.attemptEnded(attempt.clusterName(), attempt.endpoint(), attempt.status(),
                attempt.failure() == null ? null : attempt.failure().code(), System.nanoTime() - attempt.startNanos());
    }

    @Override
    public void complete(ExchangeView ex) {
        downstream.active(ex.protocol()).decrement();
        String route = ex.route() == null ? Labels.NO_ROUTE : ex.route().name();
        DownstreamMetrics.RouteSeries s = downstream.route(ex.protocol(), route);
        s.requests(ex.method(), ex.status()).inc();
        s.duration.observe((System.nanoTime() - ex.startNanos()) / 1e9);
        if (ex.requestBodyBytes() > 0) {
            s.requestBytes.inc(ex.requestBodyBytes());
        }
        if (ex.responseBodyBytes() > 0) {
            s.responseBytes.inc(ex.responseBodyBytes());
        }
    }
}
