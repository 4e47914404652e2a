package io.h3relay.config;

/** {@code policies.cors}: not supported yet (the policies skeleton refuses it with a clear error). */
final class CorsParser {
    private CorsParser() {}

    static CorsConfig parse(YamlMap m) {
        m.ctx().error(m.path(), "a mapping", "no cors block: the cors policy is not supported yet", m.line());
        return null;
    }
}
