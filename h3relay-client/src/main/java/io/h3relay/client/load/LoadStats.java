package io.h3relay.client.load;

import org.HdrHistogram.Histogram;

import java.util.Map;
import java.util.TreeMap;

/**
 * Counters of one driver (written only on its event loop), merged at the end. Latency is in
 * microseconds; in an open-model run it is measured from each request's intended send time, so time
 * spent waiting for a free slot counts (the coordinated-omission correction).
 */
final class LoadStats {
    static final long MAX_MICROS = 3_600_000_000L;

    final Histogram latency = new Histogram(MAX_MICROS, 3);
    final Map<String, Long> errors = new TreeMap<>();
    long responses;        // complete responses, any status
    long ok;               // 2xx and 3xx
    long bodyBytes;
    long windowResponses;  // timed runs: responses that ended before the window closed
    long windowBytes;      // timed runs: body bytes that arrived before the window closed
    long connects;         // connections opened
    long lastCountedEnd;   // nanoTime of the last counted request's end
    long counted;          // counted requests ended (responses + failures)

    void error(String kind) {
        errors.merge(kind, 1L, Long::sum);
    }

    void merge(LoadStats o) {
        latency.add(o.latency);
        o.errors.forEach((k, v) -> errors.merge(k, v, Long::sum));
        responses += o.responses;
        ok += o.ok;
        bodyBytes += o.bodyBytes;
        windowResponses += o.windowResponses;
        windowBytes += o.windowBytes;
        connects += o.connects;
        counted += o.counted;
        lastCountedEnd = Math.max(lastCountedEnd, o.lastCountedEnd);
    }
}
