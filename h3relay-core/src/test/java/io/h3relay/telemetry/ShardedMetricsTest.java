package io.h3relay.telemetry;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The per-event-loop cells behind the per-request metrics: adds from several event loops and from other threads
 * all count, a scrape during the adds never sees a counter go back, and the Prometheus client writes the
 * families as ordinary counters and classic histograms.
 */
class ShardedMetricsTest {
    @Test
    void addsFromEveryThreadCountAndScrapesNeverGoBack() throws Exception {
        ShardedMetrics metrics = new ShardedMetrics();
        ShardedMetrics.Counter requests = metrics.counter("t_requests", "help", "route");
        int first = requests.series("a");
        List<EventLoop> loops = List.of(new DefaultEventLoop(), new DefaultEventLoop());
        int adds = 200_000;
        try {
            List<Future<?>> running = new ArrayList<>();
            for (EventLoop loop : loops) {
                running.add(loop.submit(() -> {
                    for (int i = 0; i < adds; i++) {
                        metrics.cells.shard().add(first, 1);
                        // series created while others count: the shard grows past its first 64 cells
                        if (i % 10_000 == 0) {
                            metrics.cells.shard().add(requests.series("r" + (i / 10_000)), 1);
                        }
                    }
                }));
            }
            Thread plain = new Thread(() -> {
                for (int i = 0; i < adds; i++) {
                    metrics.cells.shard().add(first, 1); // not a Netty thread: the shared, locked shard
                }
            });
            plain.start();
            long last = 0;
            while (running.stream().anyMatch(f -> !f.isDone()) || plain.isAlive()) {
                long now = metrics.cells.sum(first);
                assertThat(now).isGreaterThanOrEqualTo(last);
                last = now;
            }
            for (Future<?> f : running) {
                f.get();
            }
            plain.join();
            assertThat(metrics.cells.sum(first)).isEqualTo(3L * adds);
            assertThat(metrics.cells.sum(requests.series("r19"))).isEqualTo(2);
        } finally {
            loops.forEach(l -> l.shutdownGracefully(0, 1, TimeUnit.SECONDS));
        }
    }

    @Test
    void exportsCountersAndClassicHistogramsThroughThePrometheusClient() throws Exception {
        ShardedMetrics metrics = new ShardedMetrics();
        ShardedMetrics.Counter requests = metrics.counter("t_requests", "Requests", "route", "code_class");
        ShardedMetrics.Histogram duration = metrics.histogram("t_duration_seconds", "Duration",
                new double[] {0.001, 0.01}, "route");
        PrometheusRegistry registry = new PrometheusRegistry();
        ShardedCells.Shard shard = metrics.cells.shard();
        shard.add(requests.series("api", "2xx"), 3);
        requests.series("web", "5xx"); // created, never counted: exported at 0
        int api = duration.series("api");
        duration.observe(shard, api, 1_000_000);   // exactly 1 ms: the le="0.001" bucket
        duration.observe(shard, api, 1_000_001);   // just above: le="0.01"
        duration.observe(shard, api, 2_000_000_000L); // beyond the last bound: only +Inf
        registry.register(metrics);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new PrometheusTextFormatWriter(false).write(out, registry.scrape());
        String text = out.toString(StandardCharsets.UTF_8);

        assertThat(text).contains("# TYPE t_requests_total counter",
                "t_requests_total{code_class=\"2xx\",route=\"api\"} 3.0",
                "t_requests_total{code_class=\"5xx\",route=\"web\"} 0.0",
                "# TYPE t_duration_seconds histogram",
                "t_duration_seconds_bucket{route=\"api\",le=\"0.001\"} 1",
                "t_duration_seconds_bucket{route=\"api\",le=\"0.01\"} 2",
                "t_duration_seconds_bucket{route=\"api\",le=\"+Inf\"} 3",
                "t_duration_seconds_count{route=\"api\"} 3",
                "t_duration_seconds_sum{route=\"api\"} 2.002000001");
    }
}
