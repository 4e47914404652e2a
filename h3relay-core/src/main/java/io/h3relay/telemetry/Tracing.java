package io.h3relay.telemetry;

import io.h3relay.config.ObservabilityConfig;
import io.h3relay.exchange.ExchangeObserver;
import io.netty.handler.codec.http.HttpHeaders;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.semconv.ServiceAttributes;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The OpenTelemetry SDK of one server: spans go through a batch processor (its own thread; the event loop
 * only enqueues) to an OTLP/HTTP exporter (protobuf over the JDK's HttpClient). W3C {@code traceparent} /
 * {@code tracestate} and {@code baggage} are read from requests and written on upstream requests.
 * Sampling: a client's sampled flag is followed; a new trace is kept with probability
 * {@code sampling_ratio}.
 */
final class Tracing implements AutoCloseable {
    static final TextMapPropagator PROPAGATOR = TextMapPropagator.composite(W3CTraceContextPropagator.getInstance(),
            W3CBaggagePropagator.getInstance());

    private final SdkTracerProvider provider;
    final Tracer tracer;

    private Tracing(SdkTracerProvider provider) {
        this.provider = provider;
        this.tracer = provider.get("io.h3relay");
    }

    static Tracing create(ObservabilityConfig.Tracing config) {
        OtlpHttpSpanExporter exporter = OtlpHttpSpanExporter.builder()
                .setEndpoint(tracesUrl(config.endpoint()))
                .setTimeout(Duration.ofSeconds(10))
                .build();
        BatchSpanProcessor batches = BatchSpanProcessor.builder(exporter)
                .setScheduleDelay(Duration.ofSeconds(1))
                .setMaxQueueSize(16 * 1024) // a full queue drops spans (counted by the SDK), never blocks
                .build();
        Resource resource = Resource.getDefault().merge(Resource.create(
                Attributes.of(ServiceAttributes.SERVICE_NAME, config.serviceName())));
        return new Tracing(SdkTracerProvider.builder()
                .setResource(resource)
                .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(config.samplingRatio())))
                .addSpanProcessor(batches)
                .build());
    }

    /**
     * Like {@code OTEL_EXPORTER_OTLP_ENDPOINT}: a base URL without a path gets {@code /v1/traces}; a URL
     * with a path is used as written.
     */
    static String tracesUrl(String endpoint) {
        String path = URI.create(endpoint).getPath();
        if (path == null || path.isEmpty() || "/".equals(path)) {
            return endpoint.replaceAll("/+$", "") + "/v1/traces";
        }
        return endpoint;
    }

    ExchangeObserver.Factory exchangeObservers() {
        return () -> new TracingObserver(tracer);
    }

    /** Exports what is queued, then stops; bounded so a dead collector cannot hold up the shutdown. */
    @Override
    public void close() {
        provider.shutdown().join(10, TimeUnit.SECONDS);
    }

    static final TextMapGetter<HttpHeaders> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(HttpHeaders carrier) {
            return carrier.names();
        }

        @Override
        public String get(HttpHeaders carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    static final TextMapSetter<HttpHeaders> SETTER = (carrier, key, value) -> {
        if (carrier != null) {
            carrier.set(key, value);
        }
    };
}
