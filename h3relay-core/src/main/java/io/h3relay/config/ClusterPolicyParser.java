package io.h3relay.config;

import io.h3relay.config.ClusterConfig.CircuitBreaker;
import io.h3relay.config.ClusterConfig.HealthCheck;
import io.h3relay.config.ClusterConfig.OutlierDetection;
import io.h3relay.config.ClusterConfig.RetryBudget;
import io.h3relay.config.ClusterConfig.StatusRange;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A cluster's health and resilience policies. Each block is optional (null when absent); when present,
 * keys left out take the defaults documented in docs/configuration.md.
 */
final class ClusterPolicyParser {
    private static final String STATUS_EXPECTED = "a status such as \"200\" or a range such as \"200-299\" (100-599)";

    private ClusterPolicyParser() {}

    /** What a gRPC health check calls (grpc.health.v1). */
    static final String GRPC_HEALTH_PATH = "/grpc.health.v1.Health/Check";

    static HealthCheck healthCheck(YamlMap parent) {
        YamlMap m = parent.map("health_check");
        if (m == null) {
            return null;
        }
        String type = m.value("type", "http or grpc", t -> t.equals("http") || t.equals("grpc") ? t : null);
        boolean grpc = "grpc".equals(type);
        String service = m.value("service", "a gRPC service name such as my.pkg.Service, or \"\"", t -> t);
        if (m.has("service") && !grpc) {
            m.notAllowed("service", "type: grpc with service (an HTTP check has a path)");
        }
        if (m.has("path") && grpc) {
            m.notAllowed("path", "service instead of path with type: grpc");
        }
        String path = m.value("path", "a path starting with /", t -> t.startsWith("/") ? t : null);
        Duration interval = m.positiveDuration("interval", Duration.ofSeconds(10));
        Duration timeout = m.positiveDuration("timeout", Duration.ofSeconds(5));
        int healthy = m.integer("healthy_threshold", 1, 1000, 2);
        int unhealthy = m.integer("unhealthy_threshold", 1, 1000, 3);
        List<StatusRange> statuses = new ArrayList<>();
        for (Scalar s : m.scalars("expected_statuses", STATUS_EXPECTED)) {
            StatusRange r = statusRange(s.text());
            if (r == null) {
                m.ctx().invalid(s, STATUS_EXPECTED);
            } else {
                statuses.add(r);
            }
        }
        if (m.isEmptyList("expected_statuses")) {
            m.notAllowed("expected_statuses", "at least one status or range");
        }
        if (!m.has("expected_statuses")) {
            statuses.add(new StatusRange(200, 299));
        }
        m.finish();
        return new HealthCheck(grpc ? GRPC_HEALTH_PATH : path == null ? "/" : path, interval, timeout, healthy,
                unhealthy, statuses, grpc ? (service == null ? "" : service) : null);
    }

    private static StatusRange statusRange(String text) {
        if (!text.matches("[0-9]{3}(-[0-9]{3})?")) {
            return null;
        }
        int from = Integer.parseInt(text.substring(0, 3));
        int to = text.length() == 3 ? from : Integer.parseInt(text.substring(4));
        return from < 100 || to > 599 || from > to ? null : new StatusRange(from, to);
    }

    static OutlierDetection outlierDetection(YamlMap parent) {
        YamlMap m = parent.map("outlier_detection");
        if (m == null) {
            return null;
        }
        int fiveXx = m.integer("consecutive_5xx", 1, 1000, 5);
        int connectFailures = m.integer("consecutive_connect_failures", 1, 1000, 3);
        Duration ejection = m.positiveDuration("base_ejection_time", Duration.ofSeconds(30));
        int maxPercent = m.integer("max_ejection_percent", 0, 100, 50);
        m.finish();
        return new OutlierDetection(fiveXx, connectFailures, ejection, maxPercent);
    }

    static CircuitBreaker circuitBreaker(YamlMap parent) {
        YamlMap m = parent.map("circuit_breaker");
        if (m == null) {
            return null;
        }
        int connections = m.integer("max_connections", 1, Integer.MAX_VALUE, 4096);
        int pending = m.integer("max_pending_requests", 0, Integer.MAX_VALUE, 1024);
        int requests = m.integer("max_requests", 1, Integer.MAX_VALUE, 8192);
        m.finish();
        return new CircuitBreaker(connections, pending, requests);
    }

    static RetryBudget retryBudget(YamlMap parent) {
        YamlMap m = parent.map("retry_budget");
        if (m == null) {
            return null;
        }
        int percent = m.integer("percent", 0, 100, 20);
        int minPerSecond = m.integer("min_retries_per_second", 0, Integer.MAX_VALUE, 10);
        m.finish();
        return new RetryBudget(percent, minPerSecond);
    }
}
