package io.h3relay.config;

import java.time.Duration;
import java.util.List;

/**
 * {@code policies.cors}. {@code allowOrigins}: exact origins ({@code https://app.example.com}), wildcard
 * subdomains ({@code https://*.example.com}) or {@code *} (any origin). {@code allowHeaders} containing
 * {@code *} allows whatever a preflight asks for. {@code maxAge} null: no Access-Control-Max-Age.
 */
public record CorsConfig(List<String> allowOrigins, List<String> allowMethods, List<String> allowHeaders,
                         List<String> exposeHeaders, boolean allowCredentials, Duration maxAge) {
    public static final List<String> DEFAULT_METHODS = List.of("GET", "HEAD", "POST");

    public CorsConfig {
        allowOrigins = List.copyOf(allowOrigins);
        allowMethods = List.copyOf(allowMethods);
        allowHeaders = List.copyOf(allowHeaders);
        exposeHeaders = List.copyOf(exposeHeaders);
    }
}
