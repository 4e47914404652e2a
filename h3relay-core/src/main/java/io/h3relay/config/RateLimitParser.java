package io.h3relay.config;

/** {@code policies.rate_limit}: not supported yet (the policies skeleton refuses it with a clear error). */
final class RateLimitParser {
    private RateLimitParser() {}

    static RateLimitConfig parse(YamlMap m) {
        m.ctx().error(m.path(), "a mapping", "no rate_limit block: the rate_limit policy is not supported yet", m.line());
        return null;
    }
}
