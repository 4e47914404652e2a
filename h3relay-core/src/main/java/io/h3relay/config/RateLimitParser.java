package io.h3relay.config;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/** {@code policies.rate_limit}. */
final class RateLimitParser {
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Pattern CLAIM = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    private static final String KEY_EXPECTED = "client, route, {header: Name} or {claim: name}";

    private RateLimitParser() {}

    static RateLimitConfig parse(YamlMap m) {
        Double rps = m.value("requests_per_second", "a number > 0 such as 10 or 0.5", t -> {
            double d = Double.parseDouble(t);
            return d > 0 && d <= 1_000_000_000 && !Double.isNaN(d) ? d : null;
        });
        if (!m.has("requests_per_second")) {
            m.missing("requests_per_second", "a number > 0 such as 10 or 0.5");
        }
        int defaultBurst = rps == null ? 1 : (int) Math.max(1, Math.ceil(rps));
        int burst = m.integer("burst", 1, 1_000_000_000, defaultBurst);
        RateLimitConfig.Key key = key(m);
        boolean dryRun = m.bool("dry_run", false);
        boolean headers = m.bool("headers", true);
        String name = m.value("name", "a policy name of letters, digits, '-', '_' and '.'",
                t -> NAME.matcher(t).matches() ? t : null);
        YamlMap sharedMap = m.map("shared");
        RateLimitConfig.Shared shared = sharedMap == null ? null : shared(sharedMap);
        m.finish();
        if (rps == null || key == null || (m.has("shared") && shared == null)) {
            return null;
        }
        return new RateLimitConfig(name, rps, burst, key, dryRun, headers, shared);
    }

    private static RateLimitConfig.Key key(YamlMap m) {
        if (!m.has("key")) {
            return new RateLimitConfig.ClientKey();
        }
        if (m.isScalar("key")) {
            Map<String, RateLimitConfig.Key> words = new LinkedHashMap<>();
            words.put("client", new RateLimitConfig.ClientKey());
            words.put("route", new RateLimitConfig.RouteKey());
            return m.value("key", KEY_EXPECTED, words::get);
        }
        YamlMap k = m.map("key");
        if (k == null) {
            return null;
        }
        String header = k.value("header", "a header name", t -> TOKEN.matcher(t).matches() ? t : null);
        String claim = k.value("claim", "a JWT claim name", t -> CLAIM.matcher(t).matches() ? t : null);
        k.finish();
        if ((header == null) == (claim == null)) {
            if (!k.has("header") && !k.has("claim") || k.has("header") && k.has("claim")) {
                k.ctx().error(k.path(), "a mapping", "exactly one of header, claim", k.line());
            }
            return null;
        }
        return header != null ? new RateLimitConfig.HeaderKey(header.toLowerCase(java.util.Locale.ROOT))
                : new RateLimitConfig.ClaimKey(claim);
    }

    private static RateLimitConfig.Shared shared(YamlMap m) {
        String uri = m.value("redis", "a redis:// URI such as redis://127.0.0.1:6379", t -> {
            URI u = URI.create(t);
            return ("redis".equals(u.getScheme()) || "rediss".equals(u.getScheme())) && u.getHost() != null ? t : null;
        });
        if (!m.has("redis")) {
            m.missing("redis", "a redis:// URI such as redis://127.0.0.1:6379");
        }
        Duration timeout = m.positiveDuration("timeout", Duration.ofMillis(50));
        Map<String, Boolean> onError = new LinkedHashMap<>();
        onError.put("allow", true);
        onError.put("deny", false);
        boolean failOpen = m.oneOf("on_error", onError, true);
        String prefix = m.string("prefix", "h3relay:rl:");
        m.finish();
        return uri == null ? null : new RateLimitConfig.Shared(uri, timeout, failOpen, prefix);
    }
}
