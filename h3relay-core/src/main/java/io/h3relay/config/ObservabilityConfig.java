package io.h3relay.config;


/** Metrics, tracing, access log and process logging settings. */
public record ObservabilityConfig(Metrics metrics, Tracing tracing, AccessLog accessLog, Logging logging) {

    public static ObservabilityConfig defaults() {
        return new ObservabilityConfig(new Metrics(true), Tracing.defaults(), new AccessLog("stdout", "json"),
                new Logging("info", "text"));
    }

    public record Metrics(boolean enabled) {}

    /** {@code exporter} is "none" or "otlp". */
    public record Tracing(String exporter, String endpoint, double samplingRatio, String serviceName) {
        public static Tracing defaults() {
            return new Tracing("none", "http://127.0.0.1:4318", 0.1, "h3relay");
        }
    }

    /** {@code path} is "stdout", "stderr", "off" or a file; {@code format} is "json" or "text". */
    public record AccessLog(String path, String format) {}

    /** {@code level}: trace|debug|info|warn|error; {@code format}: text|json. */
    public record Logging(String level, String format) {}

}
