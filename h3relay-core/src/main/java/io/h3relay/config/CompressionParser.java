package io.h3relay.config;

/** {@code policies.compression}: not supported yet (the policies skeleton refuses it with a clear error). */
final class CompressionParser {
    private CompressionParser() {}

    static CompressionConfig parse(YamlMap m) {
        m.ctx().error(m.path(), "a mapping", "no compression block: the compression policy is not supported yet", m.line());
        return null;
    }
}
