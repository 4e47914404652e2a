package io.h3relay.telemetry;

import io.h3relay.exchange.DownstreamProtocol;
import io.h3relay.listener.ConnectionObserver;
import io.netty.channel.Channel;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.util.AttributeKey;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;

import java.util.Set;
import java.util.function.Supplier;

/**
 * Counts one listener's downstream connections by protocol. A connection remembers the protocol it is
 * counted under, so an h2c upgrade moves it from h1 to h2 and its close decrements the right gauge.
 * Series exist (at zero) for the protocols the listener serves, TLS failures only on a TLS listener and the
 * QUIC series only on an h3 one; anything else is created on first use (an ALPN fallback to h1), never
 * exported empty.
 */
final class ConnectionMetrics implements ConnectionObserver {
    private static final AttributeKey<DownstreamProtocol> COUNTED_AS = AttributeKey.valueOf("h3relay.countedAs");

    private final String listener;
    private final DownstreamMetrics metrics;
    /** Filled for the served protocols; null elsewhere (looked up when used, which should not happen). */
    private final CounterDataPoint[] total = new CounterDataPoint[DownstreamProtocol.values().length];
    private final GaugeDataPoint[] active = new GaugeDataPoint[DownstreamProtocol.values().length];
    private final CounterDataPoint tlsFailures;
    private final QuicMetrics.ListenerSeries quic;
    private final Supplier<QuicMetrics.ListenerSeries> newQuic;

    ConnectionMetrics(String listener, DownstreamMetrics metrics, Set<DownstreamProtocol> served, boolean tls,
                      Supplier<QuicMetrics.ListenerSeries> quic) {
        this.listener = listener;
        this.metrics = metrics;
        for (DownstreamProtocol p : served) {
            total[p.ordinal()] = metrics.connections.labelValues(listener, p.metricName());
            active[p.ordinal()] = metrics.connectionsActive.labelValues(listener, p.metricName());
        }
        this.tlsFailures = tls ? metrics.tlsFailures.labelValues(listener, "tcp") : null;
        this.quic = served.contains(DownstreamProtocol.H3) ? quic.get() : null;
        this.newQuic = quic;
    }

    private CounterDataPoint total(DownstreamProtocol p) {
        CounterDataPoint d = total[p.ordinal()];
        return d != null ? d : metrics.connections.labelValues(listener, p.metricName());
    }

    private GaugeDataPoint active(DownstreamProtocol p) {
        GaugeDataPoint d = active[p.ordinal()];
        return d != null ? d : metrics.connectionsActive.labelValues(listener, p.metricName());
    }

    private QuicMetrics.ListenerSeries quic() {
        return quic != null ? quic : newQuic.get();
    }

    @Override
    public void connectionOpened(Channel connection, DownstreamProtocol protocol) {
        connection.attr(COUNTED_AS).set(protocol);
        total(protocol).inc();
        active(protocol).inc();
        connection.closeFuture().addListener(f -> active(connection.attr(COUNTED_AS).get()).dec());
    }

    @Override
    public void connectionUpgraded(Channel connection, DownstreamProtocol protocol) {
        DownstreamProtocol before = connection.attr(COUNTED_AS).getAndSet(protocol);
        if (before == null || before == protocol) {
            return;
        }
        active(before).dec();
        active(protocol).inc();
    }

    @Override
    public void tlsHandshakeFailed() {
        (tlsFailures != null ? tlsFailures : metrics.tlsFailures.labelValues(listener, "tcp")).inc();
    }

    @Override
    public void quicConnectionCreated(QuicChannel connection) {
        quic().connectionCreated(connection, () -> connectionOpened(connection, DownstreamProtocol.H3));
    }

    @Override
    public void quicRetrySent() {
        quic().retrySent();
    }

    @Override
    public void quicSessionResumed() {
        quic().resumed.inc();
    }

    @Override
    public void earlyDataRequest(String outcome) {
        quic().earlyData(outcome);
    }
}
