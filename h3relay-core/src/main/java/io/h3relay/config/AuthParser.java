package io.h3relay.config;

/** {@code policies.auth}: not supported yet (the policies skeleton refuses it with a clear error). */
final class AuthParser {
    private AuthParser() {}

    static AuthConfig parse(YamlMap m) {
        m.ctx().error(m.path(), "a mapping", "no auth block: the auth policy is not supported yet", m.line());
        return null;
    }
}
