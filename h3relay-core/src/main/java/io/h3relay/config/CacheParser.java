package io.h3relay.config;

/** {@code policies.cache}: not supported yet (the policies skeleton refuses it with a clear error). */
final class CacheParser {
    private CacheParser() {}

    static CacheConfig parse(YamlMap m) {
        m.ctx().error(m.path(), "a mapping", "no cache block: the cache policy is not supported yet", m.line());
        return null;
    }
}
