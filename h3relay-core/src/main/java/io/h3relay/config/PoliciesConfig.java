package io.h3relay.config;

import java.util.EnumSet;
import java.util.Set;

/**
 * The {@code policies:} of a listener (the defaults of its routes) or of a route. One nullable field per
 * policy: null means "not set here". A route's policy replaces the listener's of the same key whole (no
 * merging inside a policy); {@code <key>: off} on a route ({@link #off}) drops an inherited one. The policies
 * of an exchange are {@code route.over(listener)}, compiled into the route's filter chain in the fixed
 * order of {@link Key} by {@code io.h3relay.policy.PolicyChains}.
 */
public record PoliciesConfig(
        IpRulesConfig ipRules,
        CorsConfig cors,
        AuthConfig auth,
        RateLimitConfig rateLimit,
        CacheConfig cache,
        CompressionConfig compression,
        Set<Key> off) {

    /** The policy keys, in the order their filters run: IP rules first, compression last. */
    public enum Key {
        IP_RULES("ip_rules"),
        CORS("cors"),
        AUTH("auth"),
        RATE_LIMIT("rate_limit"),
        CACHE("cache"),
        COMPRESSION("compression");

        private final String configName;

        Key(String configName) {
            this.configName = configName;
        }

        /** The key as written in the YAML file. */
        public String configName() {
            return configName;
        }
    }

    public static final PoliciesConfig NONE = new PoliciesConfig(null, null, null, null, null, null, Set.of());

    public PoliciesConfig {
        off = off.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(off));
    }

    /** True when no policy is set (and none is switched off). */
    public boolean isEmpty() {
        return ipRules == null && cors == null && auth == null && rateLimit == null && cache == null
                && compression == null && off.isEmpty();
    }

    /**
     * These policies (a route's) over {@code defaults} (its listener's): each key is this one's when set,
     * nothing when switched off here, else the default's. The result has nothing switched off.
     */
    public PoliciesConfig over(PoliciesConfig defaults) {
        return new PoliciesConfig(
                pick(ipRules, Key.IP_RULES, defaults.ipRules),
                pick(cors, Key.CORS, defaults.cors),
                pick(auth, Key.AUTH, defaults.auth),
                pick(rateLimit, Key.RATE_LIMIT, defaults.rateLimit),
                pick(cache, Key.CACHE, defaults.cache),
                pick(compression, Key.COMPRESSION, defaults.compression),
                Set.of());
    }

    private <T> T pick(T own, Key key, T inherited) {
        return own != null ? own : off.contains(key) ? null : inherited;
    }
}
