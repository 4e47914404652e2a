package io.h3relay.config;

import io.h3relay.config.ObservabilityConfig.AccessLog;
import io.h3relay.config.ObservabilityConfig.Logging;
import io.h3relay.config.ObservabilityConfig.Metrics;
import io.h3relay.config.ObservabilityConfig.Tracing;
import java.util.LinkedHashMap;
import java.util.Map;

/** The {@code observability:} section; every block and key is optional, over ObservabilityConfig.defaults(). */
final class ObservabilityParser {
    private ObservabilityParser() {}

    static ObservabilityConfig parse(YamlMap m) {
        ObservabilityConfig d = ObservabilityConfig.defaults();
        YamlMap metricsMap = m.map("metrics");
        Metrics metrics = d.metrics();
        if (metricsMap != null) {
            metrics = new Metrics(metricsMap.bool("enabled", d.metrics().enabled()));
            metricsMap.finish();
        }
        YamlMap tracingMap = m.map("tracing");
        Tracing tracing = tracingMap == null ? d.tracing() : tracing(tracingMap, d.tracing());
        YamlMap accessMap = m.map("access_log");
        AccessLog accessLog = d.accessLog();
        if (accessMap != null) {
            String path = accessMap.value("path", "stdout, stderr, off or a file path", t -> t.isBlank() ? null : t);
            String format = accessMap.oneOf("format", words("json", "text"), d.accessLog().format());
            accessMap.finish();
            accessLog = new AccessLog(path == null ? d.accessLog().path() : path, format);
        }
        YamlMap loggingMap = m.map("logging");
        Logging logging = d.logging();
        if (loggingMap != null) {
            String level = loggingMap.oneOf("level", words("trace", "debug", "info", "warn", "error"),
                    d.logging().level());
            String format = loggingMap.oneOf("format", words("text", "json"), d.logging().format());
            loggingMap.finish();
            logging = new Logging(level, format);
        }
        m.finish();
        return new ObservabilityConfig(metrics, tracing, accessLog, logging);
    }

    private static Tracing tracing(YamlMap m, Tracing d) {
        String exporter = m.oneOf("exporter", words("none", "otlp"), d.exporter());
        String endpoint = m.value("endpoint", "an http:// or https:// URL such as http://127.0.0.1:4318",
                t -> t.matches("https?://[^\\s/]+(/\\S*)?") ? t : null);
        Double ratio = m.value("sampling_ratio", "a number from 0.0 to 1.0", t -> {
            if (!t.matches("[0-9]+(\\.[0-9]+)?")) {
                return null;
            }
            double v = Double.parseDouble(t);
            return v <= 1.0 ? v : null;
        });
        String service = m.value("service_name", "a non-empty service name", t -> t.isBlank() ? null : t);
        m.finish();
        return new Tracing(exporter, endpoint == null ? d.endpoint() : endpoint,
                ratio == null ? d.samplingRatio() : ratio, service == null ? d.serviceName() : service);
    }

    /** Allowed words that map to themselves, in the order errors list them. */
    private static Map<String, String> words(String... words) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String w : words) {
            out.put(w, w);
        }
        return out;
    }
}
