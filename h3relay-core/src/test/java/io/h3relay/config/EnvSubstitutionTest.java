package io.h3relay.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvSubstitutionTest {
    private static final Map<String, String> ENV = Map.of("PORT", "9443", "HOST", "10.0.0.1", "EMPTY", "",
            "TRICKY", "a: b # not a comment");

    @Test
    void replacesSetVariables() throws Exception {
        assertThat(EnvSubstitution.substitute("${HOST}:${PORT}", ENV)).isEqualTo("10.0.0.1:9443");
    }

    @Test
    void usesTheDefaultWhenUnsetOrEmpty() throws Exception {
        assertThat(EnvSubstitution.substitute("${MISSING:-8443}", ENV)).isEqualTo("8443");
        assertThat(EnvSubstitution.substitute("${EMPTY:-fallback}", ENV)).isEqualTo("fallback");
        assertThat(EnvSubstitution.substitute("${PORT:-1}", ENV)).isEqualTo("9443");
        assertThat(EnvSubstitution.substitute("x${MISSING:-}y", ENV)).isEqualTo("xy");
    }

    @Test
    void keepsAnEmptyValueWithoutDefault() throws Exception {
        assertThat(EnvSubstitution.substitute("[${EMPTY}]", ENV)).isEqualTo("[]");
    }

    @Test
    void leavesTextWithoutReferencesAloneAndUnescapes() throws Exception {
        assertThat(EnvSubstitution.substitute("$HOME and $5", ENV)).isEqualTo("$HOME and $5");
        assertThat(EnvSubstitution.substitute("$${HOST}", ENV)).isEqualTo("${HOST}");
    }

    @Test
    void rejectsMissingVariablesAndBadSyntax() {
        assertThatThrownBy(() -> EnvSubstitution.substitute("${NOPE}", ENV))
                .isInstanceOfSatisfying(EnvSubstitution.Failure.class,
                        f -> assertThat(f.expected).contains("environment variable NOPE to be set"));
        assertThatThrownBy(() -> EnvSubstitution.substitute("${HOST", ENV)).isInstanceOf(EnvSubstitution.Failure.class);
        assertThatThrownBy(() -> EnvSubstitution.substitute("${1X}", ENV)).isInstanceOf(EnvSubstitution.Failure.class);
    }

    @Test
    void substitutesScalarValuesInTheDocumentWithoutReparsingThem() throws Exception {
        String yaml = """
                listeners:
                  - name: ${NAME:-edge}
                    address: ${HOST}:${PORT}
                routes:
                  - name: r
                    respond: { body: "${TRICKY}" }
                """;
        RelayConfig config = ConfigLoader.parse(yaml, null, ENV);
        assertThat(config.listeners().get(0).name()).isEqualTo("edge");
        assertThat(config.listeners().get(0).address()).isEqualTo(new HostPort("10.0.0.1", 9443));
        assertThat(config.routes().get(0).action()).isEqualTo(new RouteConfig.Respond(200, "a: b # not a comment",
                Map.of()));
    }

    @Test
    void reportsEveryMissingVariableWithItsLine() {
        String yaml = """
                listeners:
                  - name: edge
                    address: ${HOST}:${NO_PORT}
                  - name: ${NO_NAME}
                    address: :0
                """;
        assertThatThrownBy(() -> ConfigLoader.parse(yaml, null, ENV))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.getMessage()).isEqualTo("""
                        line 3: listeners[0].address: "${HOST}:${NO_PORT}" (expected: environment variable NO_PORT \
                        to be set, or a default: ${NO_PORT:-default})
                        line 4: listeners[1].name: "${NO_NAME}" (expected: environment variable NO_NAME to be set, \
                        or a default: ${NO_NAME:-default})"""));
    }
}
