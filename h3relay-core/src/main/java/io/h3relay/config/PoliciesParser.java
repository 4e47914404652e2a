package io.h3relay.config;

import io.h3relay.config.PoliciesConfig.Key;

import java.util.EnumSet;
import java.util.Set;
import java.util.function.Function;

/**
 * {@code policies:} under a listener (its routes' defaults) or a route. Each key holds its policy's
 * mapping; on a route, {@code off} instead drops the policy the listener sets for that key.
 */
final class PoliciesParser {
    private PoliciesParser() {}

    /** The block at {@code m}; {@code onRoute} allows {@code <key>: off}. */
    static PoliciesConfig parse(YamlMap m, boolean onRoute) {
        Set<Key> off = EnumSet.noneOf(Key.class);
        IpRulesConfig ipRules = parse(m, Key.IP_RULES, onRoute, off, IpRulesParser::parse);
        CorsConfig cors = parse(m, Key.CORS, onRoute, off, CorsParser::parse);
        AuthConfig auth = parse(m, Key.AUTH, onRoute, off, AuthParser::parse);
        RateLimitConfig rateLimit = parse(m, Key.RATE_LIMIT, onRoute, off, RateLimitParser::parse);
        CacheConfig cache = parse(m, Key.CACHE, onRoute, off, CacheParser::parse);
        CompressionConfig compression = parse(m, Key.COMPRESSION, onRoute, off, CompressionParser::parse);
        m.finish();
        return new PoliciesConfig(ipRules, cors, auth, rateLimit, cache, compression, off);
    }

    /** The policy at {@code key} read by {@code parser}, or null (absent, off, or reported). */
    private static <T> T parse(YamlMap m, Key key, boolean onRoute, Set<Key> off, Function<YamlMap, T> parser) {
        if (!block(m, key, onRoute, off)) {
            return null;
        }
        YamlMap b = m.map(key.configName());
        return b == null ? null : parser.apply(b);
    }

    /**
     * True when {@code key} holds a mapping to parse; a route's {@code off} is recorded in {@code off};
     * any other scalar is reported.
     */
    private static boolean block(YamlMap m, Key key, boolean onRoute, Set<Key> off) {
        String k = key.configName();
        if (!m.has(k)) {
            return false;
        }
        if (!m.isScalar(k)) {
            return true; // a mapping (or a sequence, which map() reports)
        }
        String expected = onRoute ? "a mapping, or off to drop the listener's " + k
                : "a mapping (off is for a route, to drop its listener's " + k + ")";
        Scalar s = m.scalar(k, expected);
        if (s != null && onRoute && s.text().equals("off")) {
            off.add(key);
        } else if (s != null) {
            m.ctx().invalid(s, expected);
        }
        return false;
    }
}
