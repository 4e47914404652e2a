package io.h3relay.cluster;

import io.h3relay.upstream.CircuitBreakers;
import io.h3relay.upstream.UpstreamTlsContexts;
import io.h3relay.upstream.UpstreamProbe;
import io.h3relay.upstream.UpstreamConnector;
import io.h3relay.upstream.Http1Pool;
import io.h3relay.upstream.Http2Pool;
import io.h3relay.upstream.Http3Pool;
import io.h3relay.upstream.FallbackPool;
import io.h3relay.upstream.QuicUpstreamConnector;
import io.h3relay.upstream.UpstreamPool;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.balancer.LoadBalancer;
import io.h3relay.balancer.PickContext;
import io.h3relay.config.ClusterConfig;
import io.h3relay.health.HealthChecker;
import io.h3relay.health.OutlierDetector;
import io.h3relay.tls.TlsConfigException;
import io.h3relay.transport.Transport;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * A named set of endpoints with one load balancer, a connection pool per endpoint, and its health and
 * resilience policy: active checks, outlier detection, circuit breakers and a retry budget.
 *
 * <p>Health changes publish a new {@link Snapshot}: the endpoints that take traffic and a balancer built
 * over exactly them. Exchanges read the current snapshot without locks. When no endpoint is available the
 * snapshot holds all of them (panic mode): failing every request is worse than trying endpoints that may
 * have recovered since their last check.
 *
 * <p>Lifecycle: {@link #create} → {@link #start} (checks run) → serving; when a new config replaces or removes
 * it, {@link #retire}: its checks and outlier timers stop at once, and its pools close once the last
 * exchange that started on it has ended ({@link #exchangeStarted}/{@link #exchangeEnded} count them), so an
 * exchange in flight keeps its connections and may still retry. {@link #close} closes at once (stop, or the
 * manager's deadline for a retirement).
 */
public final class Cluster {
    private static final Logger LOG = LoggerFactory.getLogger(Cluster.class);

    private final ClusterConfig config;
    private final List<Endpoint> endpoints;
    private final Map<Endpoint, UpstreamPool> pools;
    private final CircuitBreakers breakers;
    private final RetryBudget retryBudget;
    private volatile Snapshot snapshot;
    private HealthChecker checker;
    private volatile OutlierDetector outliers;
    /** Exchanges forwarding to this cluster now (a LongAdder: one uncontended add per exchange per loop). */
    private final LongAdder inFlight = new LongAdder();
    private volatile boolean retiring;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Where health transitions are published (set by the manager before start; null in unit tests). */
    private volatile io.h3relay.events.EventLog events;
    /** Per endpoint, the {check healthy, ejected} last published as an event (under the republish lock). */
    private final Map<Endpoint, boolean[]> published = new IdentityHashMap<>();

    /** Where a cluster is in its life. */
    public enum State { ACTIVE, RETIRING, CLOSED }

    /** The endpoints that take traffic now, and the balancer over them. */
    public record Snapshot(List<Endpoint> endpoints, boolean panic, LoadBalancer balancer) {}

    /** Makes the pool of each endpoint (by the cluster's protocol; tests hand in pools of their own). */
    @FunctionalInterface
    public interface PoolFactory {
        UpstreamPool newPool(Endpoint endpoint, CircuitBreakers breakers);
    }

    private Cluster(ClusterConfig config, List<Endpoint> endpoints, PoolFactory pools) {
        this.config = config;
        this.endpoints = List.copyOf(endpoints);
        this.breakers = new CircuitBreakers(config.circuitBreaker());
        this.retryBudget = new RetryBudget(config.retryBudget());
        Map<Endpoint, UpstreamPool> p = new IdentityHashMap<>();
        for (Endpoint ep : this.endpoints) {
            p.put(ep, pools.newPool(ep, breakers));
        }
        this.pools = Collections.unmodifiableMap(p);
        this.snapshot = new Snapshot(this.endpoints, false, LoadBalancer.create(config.loadBalancer(),
                this.endpoints, config.hashOn()));
    }

    public static Cluster create(ClusterConfig config, Transport transport) throws TlsConfigException {
        SslContext tls = config.tls() == null ? null : UpstreamTlsContexts.build(config.tls(),
                config.protocol() == ClusterConfig.UpstreamProtocol.HTTP2 ? UpstreamTlsContexts.HTTP2_ALPN
                        : UpstreamTlsContexts.HTTP1_ALPN, "clusters[" + config.name() + "].tls");
        UpstreamConnector connector = new UpstreamConnector(transport, config, tls);
        boolean auto = config.protocol() == ClusterConfig.UpstreamProtocol.AUTO;
        if (config.protocol() == ClusterConfig.UpstreamProtocol.HTTP3 || auto) {
            QuicUpstreamConnector quic = QuicUpstreamConnector.create(config, transport);
            if (!config.protocolPolicy().orLower() && !auto) {
                return create(config, (endpoint, breakers) -> new Http3Pool(endpoint, config.pool(), quic, breakers));
            }
            // or_lower: TCP offers h2 and http/1.1 by ALPN (h2 pool), and http/1.1 alone (h1 pool)
            String where = "clusters[" + config.name() + "].tls";
            UpstreamConnector h2 = new UpstreamConnector(transport, config,
                    UpstreamTlsContexts.build(config.tls(), UpstreamTlsContexts.HTTP2_OR_HTTP1_ALPN, where));
            UpstreamConnector h1 = new UpstreamConnector(transport, config,
                    UpstreamTlsContexts.build(config.tls(), UpstreamTlsContexts.HTTP1_ALPN, where));
            return create(config, (endpoint, breakers) -> new FallbackPool(endpoint, config.protocolPolicy(),
                    new Http3Pool(endpoint, config.pool(), quic, breakers),
                    new Http2Pool(endpoint, config.pool(), h2, breakers, true),
                    new Http1Pool(endpoint, config.pool(), h1, breakers), auto));
        }
        return create(config, (endpoint, breakers) -> newPool(endpoint, config, connector, breakers));
    }

    /** A cluster whose endpoints' pools come from {@code pools}. */
    public static Cluster create(ClusterConfig config, PoolFactory pools) {
        List<Endpoint> endpoints = new ArrayList<>();
        for (ClusterConfig.EndpointConfig ec : config.endpoints()) {
            endpoints.add(new Endpoint(ec.address(), ec.weight()));
        }
        return new Cluster(config, endpoints, pools);
    }

    /** The pool of an endpoint, by the cluster's protocol (the start refuses auto so far). */
    private static UpstreamPool newPool(Endpoint endpoint, ClusterConfig config, UpstreamConnector connector,
                                        CircuitBreakers breakers) {
        return switch (config.protocol()) {
            case HTTP2, H2C -> new Http2Pool(endpoint, config.pool(), connector, breakers, config.tls() != null);
            default -> new Http1Pool(endpoint, config.pool(), connector, breakers);
        };
    }

    /** Publishes this cluster's health transitions and ejections to {@code log}. */
    public void events(io.h3relay.events.EventLog log) {
        this.events = log;
    }

    /**
     * Carries over the health of the cluster this one replaces: an endpoint with the same address keeps its
     * active-check verdict and its operator state (drained, disabled) rather than starting healthy and enabled.
     */
    public synchronized void inheritHealth(Cluster old) {
        Map<io.h3relay.config.HostPort, Endpoint> before = new java.util.HashMap<>();
        old.endpoints.forEach(e -> before.put(e.address(), e));
        for (Endpoint e : endpoints) {
            Endpoint o = before.get(e.address());
            if (o != null) {
                e.health().inheritFrom(o.health());
                published.put(e, new boolean[] {e.health().isCheckHealthy(), false});
            }
        }
        republish();
    }

    /**
     * Sets an endpoint's operator state and republishes; false when the address is not one of this cluster's.
     */
    public boolean adminState(Endpoint endpoint, io.h3relay.endpoint.EndpointHealth.AdminState state) {
        if (!pools.containsKey(endpoint)) {
            return false;
        }
        endpoint.health().adminState(state);
        republish();
        return true;
    }

    /** The endpoint with this address ({@code host:port}), or null. */
    public Endpoint endpoint(String address) {
        for (Endpoint e : endpoints) {
            if (e.toString().equals(address)) {
                return e;
            }
        }
        return null;
    }

    /** Starts active checks and outlier detection (timers run on {@code group}). */
    public synchronized void start(EventLoopGroup group) {
        if (retiring || closed.get()) {
            return;
        }
        if (config.outlierDetection() != null) {
            outliers = new OutlierDetector(name(), config.outlierDetection(), endpoints, group.next(), this::republish);
        }
        if (config.healthCheck() != null) {
            checker = new HealthChecker(name(), config.healthCheck(), endpoints, new UpstreamProbe(pools, config.healthCheck().grpcService()),
                    this::republish);
            checker.start(group);
        }
    }

    public String name() {
        return config.name();
    }

    public ClusterConfig config() {
        return config;
    }

    /** All configured endpoints, healthy or not. */
    public List<Endpoint> endpoints() {
        return endpoints;
    }

    public Snapshot snapshot() {
        return snapshot;
    }

    /** An endpoint for the next attempt, avoiding {@code exclude} when possible; null when none exist. */
    public Endpoint pick(PickContext context, Set<Endpoint> exclude) {
        return snapshot.balancer().pick(context, exclude);
    }

    public UpstreamPool pool(Endpoint endpoint) {
        return pools.get(endpoint);
    }

    public CircuitBreakers breakers() {
        return breakers;
    }

    public RetryBudget retryBudget() {
        return retryBudget;
    }

    /** Outlier detection, or null when the cluster has none. */
    public OutlierDetector outliers() {
        return outliers;
    }

    /**
     * An exchange starts forwarding to this cluster: it earns the retry budget its share and holds the
     * cluster's pools open until {@link #exchangeEnded}.
     */
    public void exchangeStarted() {
        inFlight.increment();
        retryBudget.requestStarted();
    }

    /** The exchange counted by {@link #exchangeStarted} is done; the last one out closes a retiring cluster. */
    public void exchangeEnded() {
        inFlight.decrement();
        // Dekker-style with retire(): the decrement is visible before the read of retiring, and retiring is
        // written before retire() sums; so of the last exchange and the retirement, at least one sees zero.
        if (retiring && inFlight.sum() == 0) {
            close();
        }
    }

    /** Exchanges forwarding to this cluster now. */
    public long exchangesInFlight() {
        return inFlight.sum();
    }

    public State state() {
        return closed.get() ? State.CLOSED : retiring ? State.RETIRING : State.ACTIVE;
    }

    /**
     * Takes the cluster out of service: a new config no longer has it (or has it changed). Its active checks
     * and outlier timers stop now; its pools close when the last exchange in flight on it ends (at once when
     * there is none). Call only once no exchange can start on it any more, i.e. after every event loop ran
     * a task past the swap of the runtime (an exchange reads its runtime and starts forwarding in one task).
     */
    public void retire() {
        stopChecks();
        retiring = true;
        if (inFlight.sum() == 0) {
            close();
        }
    }

    /** Stops active checks and outlier timers (the first step of a retirement; {@link #retire} does it too). */
    public synchronized void stopChecks() {
        if (checker != null) {
            checker.close();
        }
        if (outliers != null) {
            outliers.close();
        }
    }

    /** Rebuilds the snapshot after a health change; synchronized so that changes publish in order. */
    private synchronized void republish() {
        publishTransitions();
        List<Endpoint> available = endpoints.stream().filter(e -> e.health().takesTraffic()).toList();
        boolean panic = available.isEmpty();
        if (panic != snapshot.panic()) {
            if (panic) {
                LOG.warn("cluster {}: no endpoint is healthy; panic mode: traffic goes to all {} endpoints",
                        name(), endpoints.size());
            } else {
                LOG.info("cluster {}: panic mode over, {} of {} endpoints healthy", name(), available.size(),
                        endpoints.size());
            }
        }
        // Panic sends to every endpoint the operator left enabled; drained and disabled ones get nothing.
        List<Endpoint> chosen = panic ? endpoints.stream()
                .filter(e -> e.health().adminState() == io.h3relay.endpoint.EndpointHealth.AdminState.ENABLED)
                .toList() : available;
        snapshot = new Snapshot(chosen, panic, LoadBalancer.create(config.loadBalancer(), chosen, config.hashOn()));
    }

    private void publishTransitions() {
        io.h3relay.events.EventLog log = events;
        for (Endpoint e : endpoints) {
            boolean healthy = e.health().isCheckHealthy();
            boolean ejected = e.health().isEjected();
            boolean[] last = published.computeIfAbsent(e, x -> new boolean[] {true, false});
            if (log != null && last[0] != healthy) {
                Map<String, Object> d = new java.util.LinkedHashMap<>();
                d.put("cluster", name());
                d.put("endpoint", e.toString());
                d.put("healthy", healthy);
                if (!healthy && e.health().lastCheckFailure() != null) {
                    d.put("reason", e.health().lastCheckFailure());
                }
                log.publish("health", d);
            }
            if (log != null && last[1] != ejected) {
                log.publish("ejection", Map.of("cluster", name(), "endpoint", e.toString(), "ejected", ejected));
            }
            last[0] = healthy;
            last[1] = ejected;
        }
    }

    /**
     * Stops checks and closes the pools: idle connections now, busy ones when their exchange releases them;
     * acquisitions fail from now on. Idempotent.
     */
    public void close() {
        stopChecks();
        if (closed.compareAndSet(false, true)) {
            pools.values().forEach(UpstreamPool::close);
            if (retiring) {
                LOG.info("cluster {}: retired and closed", name());
            }
        }
    }
}
