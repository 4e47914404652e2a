package io.h3relay.client.load;

import io.h3relay.client.Protocol;
import org.HdrHistogram.Histogram;

import java.util.Map;

/**
 * What a load run measured. {@code responses} counts complete responses of any status, {@code ok}
 * those with 2xx/3xx; {@code errors} are by kind (connect, tls, timeout, reset, closed, protocol, and
 * {@code status_NNN} for 4xx/5xx responses). Latency (µs) covers the ok responses. The counts cover
 * every counted request, also one that ended after a timed run's window; the rates ({@code seconds},
 * {@code windowResponses}, {@code windowBytes}) only what arrived inside it.
 */
public record LoadResult(Protocol protocol, long connects, long responses, long ok, Map<String, Long> errors,
                         long bodyBytes, double seconds, Histogram latencyMicros, double rate,
                         long windowResponses, long windowBytes) {

    public long errorCount() {
        return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Requests that ended (responses plus failures). */
    public long requests() {
        return responses + errors.entrySet().stream().filter(e -> !e.getKey().startsWith("status_"))
                .mapToLong(Map.Entry::getValue).sum();
    }

    public double requestsPerSecond() {
        return seconds > 0 ? windowResponses / seconds : 0;
    }

    public double bytesPerSecond() {
        return seconds > 0 ? windowBytes / seconds : 0;
    }

    /** A percentile in milliseconds (NaN without samples). */
    public double percentileMillis(double p) {
        return latencyMicros.getTotalCount() == 0 ? Double.NaN : latencyMicros.getValueAtPercentile(p) / 1000.0;
    }

    public double maxMillis() {
        return latencyMicros.getTotalCount() == 0 ? Double.NaN : latencyMicros.getMaxValue() / 1000.0;
    }

    public double meanMillis() {
        return latencyMicros.getTotalCount() == 0 ? Double.NaN : latencyMicros.getMean() / 1000.0;
    }
}
