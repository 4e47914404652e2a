package io.h3relay.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.config.PoliciesConfig.Key;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PoliciesConfigTest {
    private static final CorsConfig LISTENER_CORS = new CorsConfig();
    private static final CorsConfig ROUTE_CORS = new CorsConfig();
    private static final AuthConfig LISTENER_AUTH = new AuthConfig();

    @Test
    void aRouteKeyReplacesTheListenersAndOffDropsIt() {
        PoliciesConfig listener = new PoliciesConfig(null, LISTENER_CORS, LISTENER_AUTH, null, null, null, Set.of());
        PoliciesConfig route = new PoliciesConfig(null, ROUTE_CORS, null, null, null, null, Set.of(Key.AUTH));
        PoliciesConfig effective = route.over(listener);
        assertThat(effective.cors()).isSameAs(ROUTE_CORS);
        assertThat(effective.auth()).isNull();
        assertThat(effective.off()).isEmpty();
        assertThat(PoliciesConfig.NONE.over(listener).auth()).isSameAs(LISTENER_AUTH);
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
