package io.h3relay.telemetry;

import io.h3relay.admin.AdminEndpoint;
import io.h3relay.cluster.Cluster;
import io.h3relay.config.ListenerConfig;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.listener.ConnectionObserver;
import io.h3relay.exchange.ExchangeObserver;
import io.netty.channel.group.ChannelGroup;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.ByteArrayOutputStream;
import java.util.Collection;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The Prometheus metrics of one running server, in a registry of its own (several servers may share a
 * JVM, as in tests). {@link #endpoint} serves them on admin {@code /metrics} in whichever exposition format
 * the scraper asks for: Prometheus text, OpenMetrics text or protobuf, by the Accept header.
 */
public final class Metrics {
    private static final long QUIC_SAMPLE_TIMEOUT_MILLIS = 1_000;

    final PrometheusRegistry registry = new PrometheusRegistry();
    final DownstreamMetrics downstream;
    final UpstreamMetrics upstream;
    final QuicMetrics quic;
    final WebSocketMetrics webSockets;
    private final ExpositionFormats formats = ExpositionFormats.init();

    Metrics(Supplier<Collection<Cluster>> clusters, Predicate<Endpoint> healthy) {
        ShardedMetrics sharded = new ShardedMetrics();
        downstream = new DownstreamMetrics(registry, sharded);
        upstream = new UpstreamMetrics(registry, sharded, clusters, healthy);
        registry.register(sharded);
        quic = new QuicMetrics(registry);
        webSockets = new WebSocketMetrics(registry);
        RuntimeMetrics.register(registry);
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    public UpstreamMetrics upstream() {
        return upstream;
    }

    ExchangeObserver.Factory exchangeObservers(ListenerConfig listener) {
        return ExchangeObserver.Factory.shared(new MetricsObserver(downstream.listener(listener.name(),
                DownstreamMetrics.served(listener)), upstream, downstream.cells, webSockets));
    }

    ConnectionObserver connectionObserver(ListenerConfig listener) {
        String name = listener.name();
        return new ConnectionMetrics(name, downstream, DownstreamMetrics.served(listener), listener.isTls(),
                () -> quic.listener(name, downstream.tlsFailures.labelValues(name, "quic")));
    }

    /** Admin {@code /metrics}: first brings the QUIC counters of open connections up to date. */
    AdminEndpoint endpoint(Supplier<Iterable<ChannelGroup>> connections) {
        return headers -> {
            QuicMetrics.sample(connections.get(), QUIC_SAMPLE_TIMEOUT_MILLIS);
            ExpositionFormatWriter writer = formats.findWriter(headers.get("accept"));
            ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
            writer.write(out, registry.scrape());
            return new AdminEndpoint.Response(200, writer.getContentType(), out.toByteArray());
        };
    }
}
