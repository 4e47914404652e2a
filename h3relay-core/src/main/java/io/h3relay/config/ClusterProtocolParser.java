package io.h3relay.config;

import io.h3relay.config.ClusterConfig.ProtocolPolicy;
import io.h3relay.config.ClusterConfig.UpstreamProtocol;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A cluster's {@code protocol_policy} ({@code exact | or_lower}) and its {@code http3} block
 * ({@code race_delay}, {@code broken_backoff}, {@code broken_backoff_max}): how an {@code http3} cluster
 * falls back to TCP. Both only with {@code protocol: http3} (or {@code auto}).
 */
final class ClusterProtocolParser {
    private static final Map<String, Boolean> POLICIES = new LinkedHashMap<>();

    static {
        POLICIES.put("exact", Boolean.FALSE);
        POLICIES.put("or_lower", Boolean.TRUE);
    }

    private ClusterProtocolParser() {}

    static ProtocolPolicy parse(YamlMap m, UpstreamProtocol protocol) {
        ProtocolPolicy d = ProtocolPolicy.defaults(protocol);
        boolean quic = protocol == UpstreamProtocol.HTTP3 || protocol == UpstreamProtocol.AUTO;
        Boolean orLower = m.oneOf("protocol_policy", POLICIES, null);
        if (orLower != null && !quic) {
            m.notAllowed("protocol_policy", "no protocol_policy: only http3 and auto clusters have a lower protocol "
                    + "to fall back to");
        }
        YamlMap h3 = m.map("http3");
        if (h3 == null) {
            return new ProtocolPolicy(orLower == null ? d.orLower() : orLower, d.raceDelay(), d.brokenBackoff(),
                    d.brokenBackoffMax());
        }
        if (!quic) {
            m.notAllowed("http3", "no http3 block: it configures protocol http3 (or auto) clusters");
        }
        Duration race = h3.duration("race_delay", d.raceDelay());
        Duration backoff = h3.positiveDuration("broken_backoff", d.brokenBackoff());
        Duration max = h3.positiveDuration("broken_backoff_max", backoff.compareTo(d.brokenBackoffMax()) > 0
                ? backoff : d.brokenBackoffMax());
        if (max.compareTo(backoff) < 0) {
            h3.notAllowed("broken_backoff_max", "a duration not below broken_backoff (" + Durations.format(backoff) + ")");
        }
        h3.finish();
        return new ProtocolPolicy(orLower == null ? d.orLower() : orLower, race, backoff, max);
    }
}
