package io.h3relay.cli;

import io.h3relay.client.load.LoadOptions;
import io.h3relay.client.load.LoadResult;

import java.util.Locale;
import java.util.Map;

/** The output of {@code h3relay bench}: a short text report, or one JSON object with the same numbers. */
final class BenchReport {
    private static final double[] PERCENTILES = {50, 90, 99, 99.9};

    private BenchReport() {
    }

    static String text(LoadOptions o, LoadResult r) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%s %s: %s, %d connections x %d streams, %d threads, %s%s%n",
                o.request().method(), o.request().target(), r.protocol().shortName(), o.connections(),
                r.protocol() == io.h3relay.client.Protocol.HTTP_1_1 ? 1 : o.streams(), o.threads(),
                o.openModel() ? String.format(Locale.ROOT, "open model at %.1f req/s (latency from each request's due time)", o.rate()) : "closed loop",
                o.warmup().isZero() ? "" : String.format(Locale.ROOT, ", after %.1f s of warm-up", o.warmup().toNanos() / 1e9)));
        b.append(String.format(Locale.ROOT, "requests:   %d (%d ok, %d errors) in %.2f s, %d connections opened%n",
                r.requests(), r.ok(), r.errorCount(), r.seconds(), r.connects()));
        if (r.windowResponses() < r.responses()) {
            b.append(String.format(Locale.ROOT, "            %d responses ended after the window: counted above, not in the rates%n",
                    r.responses() - r.windowResponses()));
        }
        b.append(String.format(Locale.ROOT, "req/s:      %.1f%n", r.requestsPerSecond()));
        b.append(String.format(Locale.ROOT, "bytes/s:    %.1f (%s/s of response body)%n", r.bytesPerSecond(), human(r.bytesPerSecond())));
        if (r.latencyMicros().getTotalCount() == 0) {
            b.append("latency:    none (no ok response)\n");
        } else {
            b.append("latency:   ");
            for (double p : PERCENTILES) {
                b.append(String.format(Locale.ROOT, " p%s %.3f ms", trim(p), r.percentileMillis(p)));
            }
            b.append(String.format(Locale.ROOT, "  max %.3f ms  mean %.3f ms%n", r.maxMillis(), r.meanMillis()));
        }
        if (!r.errors().isEmpty()) {
            b.append("errors:    ");
            r.errors().forEach((k, v) -> b.append(' ').append(k).append(' ').append(v));
            b.append('\n');
        }
        return b.toString();
    }

    static String json(LoadOptions o, LoadResult r) {
        StringBuilder b = new StringBuilder("{");
        field(b, "url", quote(o.request().target().toString()));
        field(b, "method", quote(o.request().method()));
        field(b, "protocol", quote(r.protocol().shortName()));
        field(b, "connections", o.connections());
        field(b, "streams", r.protocol() == io.h3relay.client.Protocol.HTTP_1_1 ? 1 : o.streams());
        field(b, "threads", o.threads());
        field(b, "rate", o.openModel() ? num(o.rate()) : "null");
        field(b, "coordinated_omission_corrected", o.openModel());
        field(b, "warmup_seconds", num(o.warmup().toNanos() / 1e9));
        field(b, "seconds", num(r.seconds()));
        field(b, "requests", r.requests());
        field(b, "responses", r.responses());
        field(b, "ok", r.ok());
        field(b, "connects", r.connects());
        field(b, "responses_in_window", r.windowResponses());
        field(b, "req_per_s", num(r.requestsPerSecond()));
        field(b, "body_bytes", r.bodyBytes());
        field(b, "bytes_per_s", num(r.bytesPerSecond()));
        StringBuilder lat = new StringBuilder("{");
        for (double p : PERCENTILES) {
            field(lat, "p" + trim(p).replace('.', '_'), num(r.percentileMillis(p)));
        }
        field(lat, "max", num(r.maxMillis()));
        field(lat, "mean", num(r.meanMillis()));
        field(b, "latency_ms", close(lat));
        StringBuilder err = new StringBuilder("{");
        for (Map.Entry<String, Long> e : r.errors().entrySet()) {
            field(err, e.getKey(), e.getValue());
        }
        field(b, "errors", close(err));
        field(b, "error_count", r.errorCount());
        return close(b) + "\n";
    }

    private static void field(StringBuilder b, String name, Object value) {
        if (b.length() > 1) {
            b.append(',');
        }
        b.append(quote(name)).append(':').append(value);
    }

    private static String close(StringBuilder b) {
        return b.append('}').toString();
    }

    private static String num(double d) {
        return Double.isNaN(d) || Double.isInfinite(d) ? "null" : String.format(Locale.ROOT, "%.3f", d);
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    private static String trim(double p) {
        return p == Math.rint(p) ? String.valueOf((long) p) : String.valueOf(p);
    }

    private static String human(double bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB"};
        int i = 0;
        while (bytes >= 1024 && i < units.length - 1) {
            bytes /= 1024;
            i++;
        }
        return String.format(Locale.ROOT, "%.1f %s", bytes, units[i]);
    }
}
