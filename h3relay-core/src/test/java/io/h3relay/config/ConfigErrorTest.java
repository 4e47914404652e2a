package io.h3relay.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigErrorTest {
    @Test
    void printsLinePathValueAndExpectation() {
        ConfigError e = new ConfigError("listeners[0].address", "\"abc\"", "host:port, e.g. 0.0.0.0:8443", 12);
        assertThat(e).hasToString("line 12: listeners[0].address: \"abc\" (expected: host:port, e.g. 0.0.0.0:8443)");
    }

    @Test
    void omitsAnUnknownLine() {
        ConfigError e = new ConfigError("admin.address", "missing", "host:port", 0);
        assertThat(e).hasToString("admin.address: missing (expected: host:port)");
    }

    @Test
    void quotesAndEscapesScalars() {
        assertThat(ConfigError.quote("a\"b\\c\nd\u0001")).isEqualTo("\"a\\\"b\\\\c\\nd\\u0001\"");
    }

    @Test
    void exceptionListsEveryErrorOnItsOwnLine() {
        ConfigException e = new ConfigException(List.of(new ConfigError("a", "\"1\"", "x", 1),
                new ConfigError("b", "missing", "y", 0)));
        assertThat(e.getMessage()).isEqualTo("line 1: a: \"1\" (expected: x)\nb: missing (expected: y)");
        assertThat(e.errors()).hasSize(2);
    }

    @Test
    void loadReportsAnUnreadableFile() {
        assertThatThrownBy(() -> ConfigLoader.load(Path.of("does/not/exist.yaml")))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).singleElement()
                        .satisfies(err -> assertThat(err.value()).isEqualTo("unreadable")));
    }

    @Test
    void anEmptyDocumentNeedsListeners() {
        assertThatThrownBy(() -> ConfigLoader.parse("", null, Map.of()))
                .hasMessage("listeners: missing (expected: at least one listener: - name: ..., address: host:port)");
    }

    @Test
    void aDuplicateKeyIsReportedAtItsSecondLine() {
        String yaml = "listeners:\n  - name: a\n    name: b\n    address: :0\n";
        assertThatThrownBy(() -> ConfigLoader.parse(yaml, null, Map.of()))
                .hasMessage("line 3: listeners[0].name: duplicate key (expected: each key once, first at line 2)");
    }
}
