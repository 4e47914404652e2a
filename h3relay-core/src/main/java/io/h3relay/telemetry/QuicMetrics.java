package io.h3relay.telemetry;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicPathEvent;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * QUIC metrics by listener, from Netty's {@code QuicConnectionStats} (packets, bytes, loss) and path stats
 * (smoothed RTT). quiche's counters live in each connection and are read on its event loop: when a scrape
 * comes ({@link #sample}) and once more when the connection closes (Netty keeps the final stats), and the
 * difference since the last read is added to the counters. The RTT histogram gets one sample per connection
 * at its handshake and one per scrape while it is open.
 */
final class QuicMetrics {
    private static final double[] RTT_BUCKETS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1};
    private static final double[] HANDSHAKE_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
            2.5, 5};

    private final Counter connections;
    private final Gauge active;
    private final Counter handshakes;
    private final Histogram handshakeDuration;
    private final Counter packets;
    private final Counter bytes;
    private final Histogram rtt;
    private final Counter retries;
    private final Counter pathChanges;
    private final Counter resumedHandshakes;
    private final Counter earlyData;
    private final Map<String, Supplier<long[]>> perSocket = new ConcurrentHashMap<>();

    QuicMetrics(PrometheusRegistry registry) {
        connections = Counter.builder().name("h3relay_quic_connections")
                .help("QUIC connections created (handshake started, address validated if retry is on)")
                .labelNames("listener").withoutExemplars().register(registry);
        active = Gauge.builder().name("h3relay_quic_connections_active").help("QUIC connections open")
                .labelNames("listener").withoutExemplars().register(registry);
        handshakes = Counter.builder().name("h3relay_quic_handshakes")
                .help("QUIC handshakes by result (success, failure)").labelNames("listener", "result")
                .withoutExemplars().register(registry);
        handshakeDuration = Histogram.builder().name("h3relay_quic_handshake_duration_seconds")
                .help("Time from the connection's creation to its completed handshake").labelNames("listener")
                .classicOnly().classicUpperBounds(HANDSHAKE_BUCKETS).withoutExemplars().register(registry);
        packets = Counter.builder().name("h3relay_quic_packets")
                .help("QUIC packets by direction: sent, received, lost (declared lost by loss recovery)")
                .labelNames("listener", "direction").withoutExemplars().register(registry);
        bytes = Counter.builder().name("h3relay_quic_bytes")
                .help("QUIC UDP payload bytes by direction: sent, received, lost")
                .labelNames("listener", "direction").withoutExemplars().register(registry);
        rtt = Histogram.builder().name("h3relay_quic_smoothed_rtt_seconds")
                .help("Smoothed RTT of QUIC connections, sampled at the handshake and at each scrape")
                .labelNames("listener").classicOnly().classicUpperBounds(RTT_BUCKETS).withoutExemplars()
                .register(registry);
        retries = Counter.builder().name("h3relay_quic_retries_sent")
                .help("QUIC Retry packets sent (address validation, http3.retry)").labelNames("listener")
                .withoutExemplars().register(registry);
        pathChanges = Counter.builder().name("h3relay_quic_path_changes")
                .help("QUIC path events by kind (quiche's path events: new, validated, failed_validation, closed,"
                        + " reused_connection_id, peer_migrated): a client address that changed (migration or NAT"
                        + " rebinding) shows as new, then validated and peer_migrated")
                .labelNames("listener", "kind").withoutExemplars().register(registry);
        resumedHandshakes = Counter.builder().name("h3relay_quic_resumed_handshakes")
                .help("QUIC handshakes that resumed a TLS session (session ticket), 0-RTT or not")
                .labelNames("listener").withoutExemplars().register(registry);
        earlyData = Counter.builder().name("h3relay_quic_early_data_requests")
                .help("Requests that arrived in 0-RTT early data, by outcome: forwarded (safe method, Early-Data: 1),"
                        + " rejected (425 Too Early), held (until the handshake completed)")
                .labelNames("listener", "outcome").withoutExemplars().register(registry);
        CounterWithCallback.builder().name("h3relay_quic_socket_connections")
                .help("QUIC connections accepted per SO_REUSEPORT UDP socket (how the kernel spreads them)")
                .labelNames("listener", "socket")
                .callback(cb -> perSocket.forEach((listener, counts) -> {
                    long[] c = counts.get();
                    for (int i = 0; i < c.length; i++) {
                        cb.call(c[i], listener, Integer.toString(i));
                    }
                })).register(registry);
    }

    ListenerSeries listener(String name, CounterDataPoint tlsFailures) {
        return new ListenerSeries(name, tlsFailures);
    }

    /** Connections accepted per UDP socket of a listener's HTTP/3, read at scrape time. */
    void socketConnections(String listener, Supplier<long[]> counts) {
        perSocket.put(listener, counts);
    }

    /**
     * Reads the stats of every open QUIC connection in {@code connections} on its own event loop and waits
     * (at most {@code timeoutMillis} in all) so the scrape that follows sees them. Not for an event loop.
     */
    static void sample(Iterable<ChannelGroup> connections, long timeoutMillis) {
        List<Future<?>> pending = new ArrayList<>();
        for (ChannelGroup group : connections) {
            for (Channel ch : group) {
                QuicConnectionStatsHandler h = ch instanceof QuicChannel ? ch.pipeline().get(
                        QuicConnectionStatsHandler.class) : null;
                if (h != null && ch.isActive()) {
                    pending.add(ch.eventLoop().submit(h::sample));
                }
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        for (Future<?> f : pending) {
            try {
                f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (Exception e) {
                return; // a busy or closing loop: this scrape shows slightly older numbers
            }
        }
    }

    /** The data points of one listener. */
    final class ListenerSeries {
        final CounterDataPoint created;
        final GaugeDataPoint open;
        final CounterDataPoint handshakeSuccess;
        final CounterDataPoint handshakeFailure;
        final CounterDataPoint tlsFailures;
        final DistributionDataPoint handshakeSeconds;
        final CounterDataPoint packetsSent;
        final CounterDataPoint packetsReceived;
        final CounterDataPoint packetsLost;
        final CounterDataPoint bytesSent;
        final CounterDataPoint bytesReceived;
        final CounterDataPoint bytesLost;
        final DistributionDataPoint rttSeconds;
        final CounterDataPoint retriesSent;
        final CounterDataPoint pathNew;
        final CounterDataPoint pathValidated;
        final CounterDataPoint pathFailedValidation;
        final CounterDataPoint pathClosed;
        final CounterDataPoint pathReusedConnectionId;
        final CounterDataPoint pathPeerMigrated;
        final CounterDataPoint resumed;
        private final String listener;

        ListenerSeries(String l, CounterDataPoint tlsFailures) {
            created = connections.labelValues(l);
            open = active.labelValues(l);
            handshakeSuccess = handshakes.labelValues(l, "success");
            handshakeFailure = handshakes.labelValues(l, "failure");
            this.tlsFailures = tlsFailures;
            handshakeSeconds = handshakeDuration.labelValues(l);
            packetsSent = packets.labelValues(l, "sent");
            packetsReceived = packets.labelValues(l, "received");
            packetsLost = packets.labelValues(l, "lost");
            bytesSent = bytes.labelValues(l, "sent");
            bytesReceived = bytes.labelValues(l, "received");
            bytesLost = bytes.labelValues(l, "lost");
            rttSeconds = rtt.labelValues(l);
            retriesSent = retries.labelValues(l);
            pathNew = pathChanges.labelValues(l, "new");
            pathValidated = pathChanges.labelValues(l, "validated");
            pathFailedValidation = pathChanges.labelValues(l, "failed_validation");
            pathClosed = pathChanges.labelValues(l, "closed");
            pathReusedConnectionId = pathChanges.labelValues(l, "reused_connection_id");
            pathPeerMigrated = pathChanges.labelValues(l, "peer_migrated");
            resumed = resumedHandshakes.labelValues(l);
            listener = l;
        }

        void earlyData(String outcome) {
            earlyData.labelValues(listener, outcome).inc();
        }

        /** One of quiche's path events, as Netty fires it on the connection's pipeline. */
        void pathEvent(QuicPathEvent e) {
            CounterDataPoint c = switch (e) {
                case QuicPathEvent.New n -> pathNew;
                case QuicPathEvent.Validated v -> pathValidated;
                case QuicPathEvent.FailedValidation f -> pathFailedValidation;
                case QuicPathEvent.Closed c2 -> pathClosed;
                case QuicPathEvent.ReusedSourceConnectionId r -> pathReusedConnectionId;
                case QuicPathEvent.PeerMigrated p -> pathPeerMigrated;
                default -> null;
            };
            if (c != null) {
                c.inc();
            }
        }

        /** A new QUIC connection: follow its handshake; {@code onEstablished} runs once it succeeded. */
        void connectionCreated(QuicChannel ch, Runnable onEstablished) {
            created.inc();
            open.inc();
            QuicConnectionStatsHandler h = new QuicConnectionStatsHandler(this, onEstablished);
            ch.pipeline().addFirst("h3-stats", h);
            ch.closeFuture().addListener(f -> {
                open.dec();
                h.closed(ch);
            });
        }

        void retrySent() {
            retriesSent.inc();
        }
    }
}
