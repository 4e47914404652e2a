package io.h3relay.config;

/** {@code policies.ip_rules}: not supported yet (the policies skeleton refuses it with a clear error). */
final class IpRulesParser {
    private IpRulesParser() {}

    static IpRulesConfig parse(YamlMap m) {
        m.ctx().error(m.path(), "a mapping", "no ip_rules block: the ip_rules policy is not supported yet", m.line());
        return null;
    }
}
