package io.h3relay.telemetry;

import io.h3relay.exchange.AttemptView;
import io.h3relay.exchange.ExchangeObserver;
import io.h3relay.exchange.ExchangeView;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * Records the metrics of every exchange of one listener. Stateless (all state is in the exchange and the
 * metrics), so one instance serves every exchange of the listener and costs no allocation per request. Each
 * callback adds to the calling event loop's shard of the cells.
 */
final class MetricsObserver implements ExchangeObserver {
    private final DownstreamMetrics.ListenerSeries downstream;
    private final UpstreamMetrics upstream;
    private final ShardedCells cells;
    private final WebSocketMetrics webSockets;

    MetricsObserver(DownstreamMetrics.ListenerSeries downstream, UpstreamMetrics upstream, ShardedCells cells,
                    WebSocketMetrics webSockets) {
        this.downstream = downstream;
        this.upstream = upstream;
        this.cells = cells;
        this.webSockets = webSockets;
    }

    @Override
    public void tunnelOpened(ExchangeView ex) {
        if (ex.isWebSocket()) {
            webSockets.opened(ex);
        }
    }

    @Override
    public void requestReceived(ExchangeView ex) {
        cells.shard().add(downstream.active(ex.protocol()), 1);
    }

    @Override
    public void upstreamRequest(ExchangeView ex, AttemptView attempt) {
        upstream.attemptStarted(attempt.clusterName(), attempt.number());
    }

    @Override
    public void attemptEnded(ExchangeView ex, AttemptView attempt) {
        upstream.attemptEnded(attempt.clusterName(), attempt.endpoint(), attempt.protocol(), attempt.status(),
                attempt.failure() == null ? null : attempt.failure().code(), System.nanoTime() - attempt.startNanos());
    }

    @Override
    public void complete(ExchangeView ex) {
        ShardedCells.Shard shard = cells.shard();
        shard.add(downstream.active(ex.protocol()), -1);
        String route = ex.route() == null ? Labels.NO_ROUTE : ex.route().name();
        DownstreamMetrics.RouteSeries s = downstream.route(ex.protocol(), route);
        shard.add(s.requests(ex.method(), ex.status()), 1);
        s.observeDuration(shard, System.nanoTime() - ex.startNanos());
        shard.add(s.requestBytes, ex.requestBodyBytes());
        shard.add(s.responseBytes, ex.responseBodyBytes());
        if (ex.isWebSocket()) {
            webSockets.closed(ex);
        }
    }
}
