package io.h3relay.policy;

import io.h3relay.config.AuthConfig;
import io.h3relay.config.CacheConfig;
import io.h3relay.config.CompressionConfig;
import io.h3relay.config.CorsConfig;
import io.h3relay.config.IpRulesConfig;
import io.h3relay.config.PoliciesConfig;
import io.h3relay.config.RateLimitConfig;
import io.h3relay.filter.Filter;
import io.h3relay.filter.FilterChain;

import java.util.ArrayList;
import java.util.List;

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
        return new io.h3relay.policy.iprules.IpRulesFilter(config);
    }

    private Filter cors(Scope scope, CorsConfig config) {
        return new io.h3relay.policy.cors.CorsFilter(config);
    }

    private Filter auth(Scope scope, AuthConfig config) {
        return null;
    }

    private Filter rateLimit(Scope scope, RateLimitConfig config) {
        return null;
    }

    /** The cache policy (issue 16, body half) plugs in here. */
    private Filter cache(Scope scope, CacheConfig config) {
        return null;
    }

    /** The compression policy (issue 16, body half) plugs in here. */
    private Filter compression(Scope scope, CompressionConfig config) {
        return null;
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
