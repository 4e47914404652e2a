package io.h3relay.telemetry;

import io.h3relay.exchange.DownstreamProtocol;
import io.h3relay.listener.ConnectionObserver;
import io.netty.channel.Channel;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.util.AttributeKey;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;

/**
 * Counts one listener's downstream connections by protocol. A connection remembers the protocol it is
 * counted under, so an h2c upgrade moves it from h1 to h2 and its close decrements the right gauge.
 */
final class ConnectionMetrics implements ConnectionObserver {
    private static final AttributeKey<DownstreamProtocol> COUNTED_AS = AttributeKey.valueOf("h3relay.countedAs");

    private final CounterDataPoint[] total = new CounterDataPoint[DownstreamProtocol.values().length];
    private final GaugeDataPoint[] active = new GaugeDataPoint[DownstreamProtocol.values().length];
    private final CounterDataPoint tlsFailures;
    private final QuicMetrics.ListenerSeries quic;

    ConnectionMetrics(String listener, DownstreamMetrics metrics, QuicMetrics.ListenerSeries quic) {
        for (DownstreamProtocol p : DownstreamProtocol.values()) {
            total[p.ordinal()] = metrics.connections.labelValues(listener, p.metricName());
            active[p.ordinal()] = metrics.connectionsActive.labelValues(listener, p.metricName());
        }
        this.tlsFailures = metrics.tlsFailures.labelValues(listener, "tcp");
        this.quic = quic;
    }

    @Override
    public void connectionOpened(Channel connection, DownstreamProtocol protocol) {
        connection.attr(COUNTED_AS).set(protocol);
        total[protocol.ordinal()].inc();
        active[protocol.ordinal()].inc();
        connection.closeFuture().addListener(f -> active[connection.attr(COUNTED_AS).get().ordinal()].dec());
    }

    @Override
    public void connectionUpgraded(Channel connection, DownstreamProtocol protocol) {
        DownstreamProtocol before = connection.attr(COUNTED_AS).getAndSet(protocol);
        if (before == null || before == protocol) {
            return;
        }
        active[before.ordinal()].dec();
        active[protocol.ordinal()].inc();
    }

    @Override
    public void tlsHandshakeFailed() {
        tlsFailures.inc();
    }

    @Override
    public void quicConnectionCreated(QuicChannel connection) {
        quic.connectionCreated(connection, () -> connectionOpened(connection, DownstreamProtocol.H3));
    }

    @Override
    public void quicRetrySent() {
        quic.retrySent();
    }
}
