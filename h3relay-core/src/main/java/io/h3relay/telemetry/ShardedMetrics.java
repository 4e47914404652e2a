package io.h3relay.telemetry;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.Exemplars;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The per-request counters and histograms, kept in {@link ShardedCells} (a plain add on the event loop's own
 * shard) and handed to the Prometheus client as snapshots when scraped: the client still writes every
 * exposition format; only the counting is ours. Label values come from the config (listeners, routes,
 * clusters, endpoints) and fixed sets (protocol, method, status class), so the series are bounded.
 *
 * <p>Create every family, then {@link io.prometheus.metrics.model.registry.PrometheusRegistry#register
 * register} this collector once. A series is created on first use and exported from then on.
 */
final class ShardedMetrics implements MultiCollector {
    final ShardedCells cells = new ShardedCells();
    private final List<Family> families = new CopyOnWriteArrayList<>();

    Counter counter(String name, String help, String... labelNames) {
        Counter c = new Counter(name, help, labelNames);
        families.add(c);
        return c;
    }

    /** A classic histogram of durations in nanoseconds, exported in seconds with these upper bounds. */
    Histogram histogram(String name, String help, double[] upperBoundsSeconds, String... labelNames) {
        Histogram h = new Histogram(name, help, upperBoundsSeconds, labelNames);
        families.add(h);
        return h;
    }

    @Override
    public MetricSnapshots collect() {
        List<MetricSnapshot> snapshots = new ArrayList<>(families.size());
        for (Family f : families) {
            snapshots.add(f.snapshot());
        }
        return new MetricSnapshots(snapshots);
    }

    @Override
    public List<String> getPrometheusNames() {
        return families.stream().map(f -> f.metadata.getPrometheusName()).toList();
    }

    /** A metric name with its label names; each series (label values) owns {@link #width} cells. */
    abstract class Family {
        final MetricMetadata metadata;
        private final String[] labelNames;
        private final int width;
        private final Map<List<String>, Integer> series = new ConcurrentHashMap<>();

        Family(String name, String help, String[] labelNames, int width) {
            this.metadata = new MetricMetadata(name, help);
            this.labelNames = labelNames.clone();
            this.width = width;
        }

        /** The first cell of the series with these label values, created (at zero) on first use. */
        int series(String... labelValues) {
            if (labelValues.length != labelNames.length) {
                throw new IllegalArgumentException(metadata.getName() + " takes labels " + Arrays.toString(labelNames));
            }
            return series.computeIfAbsent(List.of(labelValues), v -> cells.allocate(width));
        }

        final <T> List<T> dataPoints(SeriesReader<T> reader) {
            List<T> points = new ArrayList<>(series.size());
            series.forEach((values, first) -> points.add(reader.read(
                    io.prometheus.metrics.model.snapshots.Labels.of(labelNames, values.toArray(String[]::new)),
                    first)));
            return points;
        }

        abstract MetricSnapshot snapshot();
    }

    private interface SeriesReader<T> {
        T read(io.prometheus.metrics.model.snapshots.Labels labels, int first);
    }

    final class Counter extends Family {
        Counter(String name, String help, String[] labelNames) {
            super(name, help, labelNames, 1);
        }

        @Override
        MetricSnapshot snapshot() {
            return new CounterSnapshot(metadata, dataPoints((labels, cell) ->
                    new CounterSnapshot.CounterDataPointSnapshot(cells.sum(cell), labels, null, 0)));
        }
    }

    /** Cells of a series: one count per bucket (the last one +Inf), then the sum in nanoseconds. */
    final class Histogram extends Family {
        private final long[] upperBoundsNanos;
        private final double[] upperBoundsSeconds;

        Histogram(String name, String help, double[] upperBoundsSeconds, String[] labelNames) {
            super(name, help, labelNames, upperBoundsSeconds.length + 2);
            this.upperBoundsNanos = Arrays.stream(upperBoundsSeconds).mapToLong(s -> Math.round(s * 1e9)).toArray();
            this.upperBoundsSeconds = Arrays.copyOf(upperBoundsSeconds, upperBoundsSeconds.length + 1);
            this.upperBoundsSeconds[upperBoundsSeconds.length] = Double.POSITIVE_INFINITY;
        }

        void observe(ShardedCells.Shard shard, int series, long nanos) {
            long[] bounds = upperBoundsNanos;
            int bucket = 0;
            while (bucket < bounds.length && nanos > bounds[bucket]) {
                bucket++;
            }
            shard.add(series + bucket, 1);
            shard.add(series + bounds.length + 1, nanos);
        }

        @Override
        MetricSnapshot snapshot() {
            int buckets = upperBoundsSeconds.length;
            return new HistogramSnapshot(metadata, dataPoints((labels, first) -> {
                long[] values = new long[buckets + 1];
                cells.sum(first, values);
                return new HistogramSnapshot.HistogramDataPointSnapshot(
                        ClassicHistogramBuckets.of(upperBoundsSeconds, Arrays.copyOf(values, buckets)),
                        values[buckets] / 1e9, labels, Exemplars.EMPTY, 0);
            }));
        }
    }
}
