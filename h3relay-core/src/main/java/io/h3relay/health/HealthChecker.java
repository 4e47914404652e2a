package io.h3relay.health;

import io.h3relay.endpoint.EndpointHealth;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.config.ClusterConfig.HealthCheck;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Active health checks for one cluster. Each endpoint is checked on one event loop of its own choosing,
 * every {@code interval} (plus or minus 10% jitter, so that many proxies do not check in lockstep), with
 * {@code timeout}. {@code unhealthy_threshold} failures in a row take it out of the balancer;
 * {@code healthy_threshold} successes in a row bring it back. Each change is logged once, with its reason.
 *
 * <pre>
 *   healthy ──(unhealthy_threshold failures in a row)──► unhealthy
 *      ▲                                                     │
 *      └───────(healthy_threshold successes in a row)────────┘
 * </pre>
 */
public final class HealthChecker {
    private static final Logger LOG = LoggerFactory.getLogger(HealthChecker.class);

    private final String cluster;
    private final HealthCheck config;
    private final List<Endpoint> endpoints;
    private final HealthProbe probe;
    private final Runnable onChange;
    /** Successes and failures in a row per endpoint; touched on the endpoint's check loop only. */
    private final java.util.Map<Endpoint, int[]> streaks = new java.util.IdentityHashMap<>();
    private volatile boolean closed;

    public HealthChecker(String cluster, HealthCheck config, List<Endpoint> endpoints, HealthProbe probe,
                         Runnable onChange) {
        this.cluster = cluster;
        this.config = config;
        this.endpoints = List.copyOf(endpoints);
        this.probe = probe;
        this.onChange = onChange;
        for (Endpoint e : this.endpoints) {
            streaks.put(e, new int[2]);
        }
    }

    /** Starts checking; the first round runs soon (within 10% of an interval) rather than after a whole one. */
    public void start(EventLoopGroup group) {
        for (Endpoint e : endpoints) {
            EventLoop loop = group.next();
            long first = ThreadLocalRandom.current().nextLong(intervalMillis() / 10 + 1);
            loop.schedule(() -> check(loop, e), first, TimeUnit.MILLISECONDS);
        }
    }

    private long intervalMillis() {
        return config.interval().toMillis();
    }

    private void check(EventLoop loop, Endpoint e) {
        if (closed) {
            return;
        }
        probe.probe(loop, e, config.path(), config.timeout()).addListener((Future<Integer> f) -> {
            if (f.isSuccess()) {
                int status = f.getNow();
                boolean ok = config.expectedStatuses().stream().anyMatch(r -> r.contains(status));
                record(e, ok, ok ? null : "status " + status + " from GET " + config.path());
            } else {
                Throwable c = f.cause();
                record(e, false, c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage());
            }
            if (!closed) {
                long interval = intervalMillis();
                long jitter = ThreadLocalRandom.current().nextLong(-interval / 10, interval / 10 + 1);
                loop.schedule(() -> check(loop, e), Math.max(1, interval + jitter), TimeUnit.MILLISECONDS);
            }
        });
    }

    /** On the endpoint's check loop only: the counters are confined to it. */
    private void record(Endpoint e, boolean ok, String failure) {
        if (closed) {
            return;
        }
        EndpointHealth h = e.health();
        int[] streak = streaks.get(e); // [successes, failures] in a row
        if (ok) {
            streak[1] = 0;
            streak[0]++;
            if (!h.isCheckHealthy() && streak[0] >= config.healthyThreshold()) {
                h.checkHealthy(true, null);
                LOG.info("cluster {}: endpoint {} is healthy again ({} successful checks in a row)", cluster, e,
                        streak[0]);
                onChange.run();
            }
        } else {
            streak[0] = 0;
            streak[1]++;
            if (h.isCheckHealthy() && streak[1] >= config.unhealthyThreshold()) {
                h.checkHealthy(false, failure);
                LOG.warn("cluster {}: endpoint {} is unhealthy ({} failed checks in a row, last: {})", cluster, e,
                        streak[1], failure);
                onChange.run();
            } else if (!h.isCheckHealthy()) {
                h.checkHealthy(false, failure); // keep the latest reason for /health
            }
        }
    }

    public void close() {
        closed = true;
    }
}
