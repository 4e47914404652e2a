package io.h3relay.policy;

import io.h3relay.config.AuthConfig;
import io.h3relay.config.CacheConfig;
import io.h3relay.config.CompressionConfig;
import io.h3relay.config.CorsConfig;
import io.h3relay.config.IpRulesConfig;
import io.h3relay.config.PoliciesConfig;
import io.h3relay.config.RateLimitConfig;
import io.h3relay.filter.Filter;
import io.h3relay.policy.cache.CacheFilter;
import io.h3relay.policy.cache.CacheRegistry;
import io.h3relay.policy.cache.HttpCache;
import io.h3relay.policy.compression.CompressionFilter;
import io.h3relay.filter.FilterChain;

import io.h3relay.policy.auth.AuthFilter;
import io.h3relay.policy.auth.JwksSource;
import io.h3relay.policy.auth.JwtVerifier;
import io.h3relay.policy.ratelimit.LocalBuckets;
import io.h3relay.policy.ratelimit.RateLimitFilter;
import io.h3relay.policy.ratelimit.RedisLink;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The one place where a route's effective policies become filters, in the fixed order: IP rules → CORS
 * preflight → authentication → rate limit → cache → (forward) → compression. One instance per runtime
 * snapshot: what the policies hold open (Redis connections, JWKS refreshes) is closed with it when the
 * snapshot retires ({@link #close}).
 *
 * <p>Each policy has one hook below that turns its config into a filter (or null for none). Response
 * phases run the chain in the same order, so compression, last, sees what the cache (before it) stored
 * and served.
 */
public final class PolicyChains implements AutoCloseable {
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final PolicyMetrics metrics;
    /** Local rate-limit buckets by name: routes naming the same rate limit share its buckets. */
    private final Map<String, LocalBuckets> buckets = new HashMap<>();
    private final Map<String, RateLimitConfig> bucketConfigs = new HashMap<>();
    private final Map<String, RedisLink> redis = new HashMap<>();
    private ScheduledExecutorService scheduler;
    private java.util.concurrent.ExecutorService slowWork;

    /** With counters of its own (tests, tools). */
    public PolicyChains() {
        this(new PolicyMetrics());
    }

    /** @param metrics the server's policy counters (kept across reloads) */
    public PolicyChains(PolicyMetrics metrics) {
        this.metrics = metrics;
    }

    public PolicyMetrics metrics() {
        return metrics;
    }

    /**
     * A daemon thread for the policies' periodic work (bucket sweeps, JWKS refreshes), made on first use and
     * stopped with this snapshot.
     */
    synchronized ScheduledExecutorService scheduler() {
        if (scheduler == null) {
            scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "h3relay-policies");
                t.setDaemon(true);
                return t;
            });
            ScheduledExecutorService s = scheduler;
            own(s::shutdownNow);
        }
        return scheduler;
    }

    /** Where a chain is compiled for: names for metrics and keys, and whether the listener is TLS. */
    public record Scope(String listener, String route, boolean tls) {
    }

    /** The filters of {@code effective} (a route's policies over its listener's), in the fixed order. */
    public FilterChain compile(Scope scope, PoliciesConfig effective) {
        if (effective.isEmpty()) {
            return FilterChain.EMPTY;
        }
        List<Filter> out = new ArrayList<>(6);
        add(out, effective.ipRules() == null ? null : ipRules(scope, effective.ipRules()));
        add(out, effective.cors() == null ? null : cors(scope, effective.cors()));
        add(out, effective.auth() == null ? null : auth(scope, effective.auth()));
        add(out, effective.rateLimit() == null ? null : rateLimit(scope, effective.rateLimit()));
        add(out, effective.cache() == null ? null : cache(scope, effective.cache()));
        add(out, effective.compression() == null ? null : compression(scope, effective.compression()));
        return FilterChain.of(out);
    }

    private static void add(List<Filter> out, Filter f) {
        if (f != null) {
            out.add(f);
        }
    }

    /** Keeps {@code resource} open for this snapshot's life. */
    void own(AutoCloseable resource) {
        resources.add(resource);
    }

    // ---- one hook per policy -------------------------------------------------------------------------

    private Filter ipRules(Scope scope, IpRulesConfig config) {
        return new io.h3relay.policy.iprules.IpRulesFilter(config,
                metrics.counter(scope.listener(), scope.route(), "ip_rules", "forbidden"));
    }

    private Filter cors(Scope scope, CorsConfig config) {
        return new io.h3relay.policy.cors.CorsFilter(config);
    }

    private Filter auth(Scope scope, AuthConfig config) {
        JwtVerifier jwt = null;
        if (config.jwt() != null) {
            JwksSource keys = new JwksSource(config.jwt().jwksFile(), config.jwt().jwksUrl(), config.jwt().refresh(),
                    scheduler());
            own(keys);
            jwt = new JwtVerifier(config.jwt(), keys);
        }
        return new AuthFilter(config, jwt, config.basic() == null ? null : slowWork(), metrics, scope.listener(),
                scope.route());
    }

    /** Two daemon threads for CPU-heavy checks (bcrypt) that must not run on an event loop; bounded queue. */
    synchronized java.util.concurrent.ExecutorService slowWork() {
        if (slowWork == null) {
            slowWork = new java.util.concurrent.ThreadPoolExecutor(2, 2, 0, TimeUnit.SECONDS,
                    new java.util.concurrent.ArrayBlockingQueue<>(1024), r -> {
                        Thread t = new Thread(r, "h3relay-policies-slow");
                        t.setDaemon(true);
                        return t;
                    });
            java.util.concurrent.ExecutorService s = slowWork;
            own(s::shutdownNow);
        }
        return slowWork;
    }

    private Filter rateLimit(Scope scope, RateLimitConfig config) {
        String name = config.name() != null ? config.name() : scope.listener() + "/" + scope.route();
        if (config.shared() != null) {
            RedisLink link = redis.computeIfAbsent(config.shared().redisUri(), uri -> {
                RedisLink l = new RedisLink(uri, config.shared().timeout());
                own(l);
                return l;
            });
            return new RateLimitFilter(config, name, null, link, metrics, scope.listener(), scope.route());
        }
        RateLimitConfig first = bucketConfigs.putIfAbsent(name, config);
        if (first != null && (first.requestsPerSecond() != config.requestsPerSecond()
                || first.burst() != config.burst())) {
            throw new IllegalArgumentException("rate_limit " + name + ": routes sharing it by name must have the "
                    + "same requests_per_second and burst");
        }
        LocalBuckets b = buckets.computeIfAbsent(name, n -> {
            LocalBuckets nb = RateLimitFilter.localBuckets(config);
            long every = Math.max(1000, 2 * nb.tau() / 1_000_000);
            scheduler().scheduleWithFixedDelay(() -> RateLimitFilter.sweep(nb), every, every, TimeUnit.MILLISECONDS);
            return nb;
        });
        return new RateLimitFilter(config, name, b, null, metrics, scope.listener(), scope.route());
    }

    /** The cache stores of this snapshot (one per route with a cache policy): admin purge, metrics. */
    private final CacheRegistry caches = new CacheRegistry();

    public CacheRegistry caches() {
        return caches;
    }

    /** The cache policy: a store of its own for each (listener, route). */
    private Filter cache(Scope scope, CacheConfig config) {
        return new CacheFilter(caches.add(new HttpCache(scope.listener(), scope.route(), config)));
    }

    /** The compression policy. */
    private Filter compression(Scope scope, CompressionConfig config) {
        return new CompressionFilter(config);
    }

    /** Closes what the policies of this snapshot hold open. */
    @Override
    public void close() {
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                org.slf4j.LoggerFactory.getLogger(PolicyChains.class).warn("closing a policy resource: {}", e.toString());
            }
        }
        resources.clear();
    }
}
