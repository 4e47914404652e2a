package io.h3relay.admin;

import io.h3relay.cluster.Cluster;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.endpoint.EndpointHealth;
import io.h3relay.exchange.LocalResponses;

import java.time.Instant;
import java.util.Collection;

/**
 * The admin {@code /health} document: per cluster, how many endpoints take traffic, and an overall status:
 * {@code healthy} (every endpoint of every cluster available), {@code unhealthy} (some cluster has none:
 * it runs in panic mode), {@code degraded} otherwise.
 *
 * <pre>
 * {"status":"degraded","timestamp":"2026-11-21T22:40:00Z","clusters":[{"name":"api","status":"degraded",
 *   "healthy_endpoints":2,"total_endpoints":3,"panic":false,"endpoints":[{"address":"10.0.0.1:9001",
 *   "healthy":true,"failing_checks":false,"ejected":false,"active_requests":4}, ...]}]}
 * </pre>
 */
final class HealthReport {
    enum Status { HEALTHY, DEGRADED, UNHEALTHY }

    private HealthReport() {}

    static Status statusOf(Cluster c) {
        long healthy = c.endpoints().stream().filter(e -> e.health().isAvailable()).count();
        if (healthy == 0) {
            return Status.UNHEALTHY;
        }
        return healthy == c.endpoints().size() ? Status.HEALTHY : Status.DEGRADED;
    }

    static Status overall(Collection<Cluster> clusters) {
        Status worst = Status.HEALTHY;
        for (Cluster c : clusters) {
            Status s = statusOf(c);
            if (s.ordinal() > worst.ordinal()) {
                worst = s;
            }
        }
        return worst;
    }

    static String json(Collection<Cluster> clusters, Instant now) {
        StringBuilder b = new StringBuilder(256);
        b.append("{\"status\":").append(quote(name(overall(clusters))))
                .append(",\"timestamp\":").append(quote(now.toString()))
                .append(",\"clusters\":[");
        boolean first = true;
        for (Cluster c : clusters) {
            b.append(first ? "" : ",");
            first = false;
            long healthy = c.endpoints().stream().filter(e -> e.health().isAvailable()).count();
            b.append("{\"name\":").append(quote(c.name()))
                    .append(",\"status\":").append(quote(name(statusOf(c))))
                    .append(",\"healthy_endpoints\":").append(healthy)
                    .append(",\"total_endpoints\":").append(c.endpoints().size())
                    .append(",\"panic\":").append(c.snapshot().panic())
                    .append(",\"endpoints\":[");
            boolean firstEndpoint = true;
            for (Endpoint e : c.endpoints()) {
                b.append(firstEndpoint ? "" : ",");
                firstEndpoint = false;
                EndpointHealth h = e.health();
                b.append("{\"address\":").append(quote(e.address().toString()))
                        .append(",\"healthy\":").append(h.isAvailable())
                        .append(",\"failing_checks\":").append(!h.isCheckHealthy())
                        .append(",\"ejected\":").append(h.isEjected())
                        .append(",\"state\":").append(quote(h.adminState().configName()))
                        .append(",\"active_requests\":").append(e.activeRequests());
                if (h.lastCheckFailure() != null) {
                    b.append(",\"last_check_failure\":").append(quote(h.lastCheckFailure()));
                }
                b.append('}');
            }
            b.append("]}");
        }
        return b.append("]}\n").toString();
    }

    private static String name(Status s) {
        return s.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** A JSON string literal. */
    static String quote(String s) {
        return '"' + LocalResponses.jsonEscape(s) + '"';
    }
}
