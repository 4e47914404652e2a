package io.h3relay.telemetry;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * JVM and process metrics (memory, GC, threads, CPU, buffer pools: the Prometheus client's own set) and
 * Netty's buffer allocators: the pooled one our listeners and upstream connections use, and the default
 * (adaptive) one the QUIC codec uses.
 */
final class RuntimeMetrics {
    private RuntimeMetrics() {
    }

    static void register(PrometheusRegistry registry) {
        JvmMetrics.builder().register(registry);
        ByteBufAllocatorMetric pooled = PooledByteBufAllocator.DEFAULT.metric();
        ByteBufAllocatorMetric standard = ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p
                && ByteBufAllocator.DEFAULT != PooledByteBufAllocator.DEFAULT ? p.metric() : null;
        GaugeWithCallback.builder().name("h3relay_netty_allocator_used_bytes")
                .help("Memory held by Netty's buffer allocators, by allocator (pooled, default) and type")
                .labelNames("allocator", "type")
                .callback(cb -> {
                    cb.call(pooled.usedDirectMemory(), "pooled", "direct");
                    cb.call(pooled.usedHeapMemory(), "pooled", "heap");
                    if (standard != null) {
                        cb.call(standard.usedDirectMemory(), "default", "direct");
                        cb.call(standard.usedHeapMemory(), "default", "heap");
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("h3relay_netty_pooled_allocator_arenas")
                .help("Arenas of Netty's pooled allocator, by type").labelNames("type")
                .callback(cb -> {
                    cb.call(PooledByteBufAllocator.DEFAULT.metric().numDirectArenas(), "direct");
                    cb.call(PooledByteBufAllocator.DEFAULT.metric().numHeapArenas(), "heap");
                }).register(registry);
        GaugeWithCallback.builder().name("h3relay_netty_pooled_allocator_thread_local_caches")
                .help("Thread-local caches of Netty's pooled allocator (about one per event loop thread)")
                .callback(cb -> cb.call(PooledByteBufAllocator.DEFAULT.metric().numThreadLocalCaches()))
                .register(registry);
        GaugeWithCallback.builder().name("h3relay_netty_direct_memory_used_bytes")
                .help("Direct memory Netty allocated outside the JDK's accounting (no Cleaner), against"
                        + " -XX:MaxDirectMemorySize; -1 when Netty does not track it")
                .callback(cb -> cb.call(PlatformDependent.usedDirectMemory())).register(registry);
    }
}
