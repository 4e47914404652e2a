package io.h3relay.it;

import io.prometheus.metrics.expositionformats.generated.Metrics;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One scrape of admin {@code /metrics}, parsed with Prometheus' own data model: the protobuf exposition
 * format (what Prometheus negotiates for native histograms), decoded by the generated {@code Metrics.MetricFamily}
 * classes the Prometheus Java client ships. Values are looked up by family name and a subset of labels.
 */
final class MetricsScrape {
    static final String PROTOBUF = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;"
            + " encoding=delimited";

    final Map<String, Metrics.MetricFamily> families = new LinkedHashMap<>();

    private MetricsScrape(byte[] body) throws Exception {
        InputStream in = new ByteArrayInputStream(body);
        Metrics.MetricFamily f;
        while ((f = Metrics.MetricFamily.parseDelimitedFrom(in)) != null) {
            families.put(f.getName(), f);
        }
    }

    static MetricsScrape of(RelayHarness relay) throws Exception {
        HttpResponse<byte[]> res = get(relay, PROTOBUF);
        if (res.statusCode() != 200 || !res.headers().firstValue("content-type").orElse("")
                .startsWith("application/vnd.google.protobuf")) {
            throw new AssertionError("scrape failed: " + res.statusCode() + " " + res.headers().map());
        }
        return new MetricsScrape(res.body());
    }

    static HttpResponse<byte[]> get(RelayHarness relay, String accept) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + relay.server().adminAddress().getPort() + "/metrics"));
            if (accept != null) {
                b.header("accept", accept);
            }
            return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        }
    }

    boolean has(String family) {
        return families.containsKey(family);
    }

    /** Whether any series of {@code family} has all of {@code labels} (a series at zero counts). */
    boolean hasSeries(String family, Map<String, String> labels) {
        Metrics.MetricFamily f = families.get(family);
        return f != null && f.getMetricList().stream().anyMatch(m -> matches(m, labels));
    }

    /** Sum over matching series: counter or gauge value, or a histogram's sample count. */
    double value(String family, Map<String, String> labels) {
        Metrics.MetricFamily f = families.get(family);
        if (f == null) {
            return 0;
        }
        double sum = 0;
        for (Metrics.Metric m : f.getMetricList()) {
            if (matches(m, labels)) {
                sum += switch (f.getType()) {
                    case COUNTER -> m.getCounter().getValue();
                    case GAUGE -> m.getGauge().getValue();
                    case HISTOGRAM -> m.getHistogram().getSampleCount();
                    default -> m.getUntyped().getValue();
                };
            }
        }
        return sum;
    }

    /** A histogram's cumulative count at its largest finite bucket bound. */
    long histogramBucketsTotal(String family, Map<String, String> labels) {
        Metrics.MetricFamily f = families.get(family);
        long n = 0;
        for (Metrics.Metric m : f.getMetricList()) {
            if (matches(m, labels)) {
                var buckets = m.getHistogram().getBucketList();
                n += buckets.isEmpty() ? 0 : buckets.get(buckets.size() - 1).getCumulativeCount();
            }
        }
        return n;
    }

    private static boolean matches(Metrics.Metric m, Map<String, String> labels) {
        for (Map.Entry<String, String> e : labels.entrySet()) {
            boolean found = false;
            for (Metrics.LabelPair p : m.getLabelList()) {
                if (p.getName().equals(e.getKey()) && p.getValue().equals(e.getValue())) {
                    found = true;
                    break;
                }
            }
            if (!found) {
                return false;
            }
        }
        return true;
    }
}
