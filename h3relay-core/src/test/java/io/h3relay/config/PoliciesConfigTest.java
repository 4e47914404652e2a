package io.h3relay.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.config.PoliciesConfig.Key;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PoliciesConfigTest {
    private static final CorsConfig LISTENER_CORS = new CorsConfig(List.of("*"), List.of(), List.of(), List.of(),
            false, null);
    private static final CorsConfig ROUTE_CORS = new CorsConfig(List.of("https://a.example"), List.of(),
            List.of(), List.of(), false, null);
    private static final IpRulesConfig LISTENER_IP = new IpRulesConfig(List.of(Cidr.parse("10.0.0.0/8")), List.of());

    @Test
    void aRouteKeyReplacesTheListenersAndOffDropsIt() {
        PoliciesConfig listener = new PoliciesConfig(LISTENER_IP, LISTENER_CORS, null, null, null, null, Set.of());
        PoliciesConfig route = new PoliciesConfig(null, ROUTE_CORS, null, null, null, null, Set.of(Key.IP_RULES));
        PoliciesConfig effective = route.over(listener);
        assertThat(effective.cors()).isSameAs(ROUTE_CORS);
        assertThat(effective.ipRules()).isNull();
        assertThat(effective.off()).isEmpty();
        assertThat(PoliciesConfig.NONE.over(listener).ipRules()).isSameAs(LISTENER_IP);
        assertThat(PoliciesConfig.NONE.over(listener).cors()).isSameAs(LISTENER_CORS);
        assertThat(PoliciesConfig.NONE.over(PoliciesConfig.NONE).isEmpty()).isTrue();
    }

    @Test
    void offOnARouteIsRead() throws ConfigException {
        String yaml = """
                listeners:
                  - name: l
                    address: 127.0.0.1:0
                routes:
                  - name: r
                    respond: { status: 200 }
                    policies: { ip_rules: off, compression: off }
                """;
        RelayConfig c = ConfigLoader.parse(yaml, null, Map.of());
        assertThat(c.routes().get(0).policies().off()).containsExactlyInAnyOrder(Key.IP_RULES, Key.COMPRESSION);
        assertThat(c.listeners().get(0).policies()).isEqualTo(PoliciesConfig.NONE);
    }
}
