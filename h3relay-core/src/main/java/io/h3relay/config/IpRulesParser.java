package io.h3relay.config;

import java.util.ArrayList;
import java.util.List;

/** {@code policies.ip_rules}: {@code allow} and {@code deny} lists of CIDRs. */
final class IpRulesParser {
    private IpRulesParser() {}

    static IpRulesConfig parse(YamlMap m) {
        List<Cidr> allow = cidrs(m, "allow");
        List<Cidr> deny = cidrs(m, "deny");
        m.finish();
        boolean written = m.has("allow") && !m.isEmptyList("allow") || m.has("deny") && !m.isEmptyList("deny");
        if (!written) {
            m.ctx().error(m.path(), "no rules", "allow: [CIDR, ...] and/or deny: [CIDR, ...]", m.line());
            return null;
        }
        if (allow.isEmpty() && deny.isEmpty()) {
            return null; // every entry was reported
        }
        return new IpRulesConfig(allow, deny);
    }

    /** A list of CIDRs at {@code key} (also used for a listener's trusted_proxies). */
    static List<Cidr> cidrs(YamlMap m, String key) {
        List<Cidr> out = new ArrayList<>();
        for (Scalar s : m.scalars(key, Cidr.EXPECTED)) {
            Cidr c = Cidr.parse(s.text());
            if (c == null) {
                m.ctx().invalid(s, Cidr.EXPECTED + " (no host bits after the prefix)");
            } else {
                out.add(c);
            }
        }
        return out;
    }
}
