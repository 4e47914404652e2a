package io.h3relay.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden tests: each {@code valid/x.yaml} loads to the model rendered in {@code valid/x.model}; each
 * {@code invalid/x.yaml} fails with exactly the lines of {@code invalid/x.errors}, in order.
 */
class ConfigGoldenTest {
    /** Fixed environment for the goldens; substitution itself is covered by EnvSubstitutionTest. */
    static final Map<String, String> ENV = Map.of("TLS_PASSWORD", "s3cret", "API_PORT", "9001", "EMPTY", "");

    static List<Path> validFiles() throws IOException {
        return GoldenFiles.yamlFiles("valid");
    }

    static List<Path> invalidFiles() throws IOException {
        return GoldenFiles.yamlFiles("invalid");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validFiles")
    void validFileLoadsToGoldenModel(Path yaml) throws IOException {
        RelayConfig config;
        try {
            config = ConfigLoader.parse(Files.readString(yaml), yaml.getParent(), ENV);
        } catch (ConfigException e) {
            fail("expected " + yaml.getFileName() + " to load, got:\n" + e.getMessage());
            return;
        }
        String actual = ModelText.render(config, yaml.getParent());
        assertThat(actual).isEqualTo(GoldenFiles.expected(GoldenFiles.sibling(yaml, ".model"), actual));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidFiles")
    void invalidFileFailsWithGoldenErrors(Path yaml) throws IOException {
        String text = Files.readString(yaml);
        assertThatThrownBy(() -> ConfigLoader.parse(text, yaml.getParent(), ENV))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    String actual = e.errors().stream().map(ConfigError::toString)
                            .collect(Collectors.joining("\n", "", "\n"));
                    try {
                        assertThat(actual).isEqualTo(GoldenFiles.expected(GoldenFiles.sibling(yaml, ".errors"), actual));
                    } catch (IOException io) {
                        throw new AssertionError(io);
                    }
                    assertThat(e.getMessage()).isEqualTo(actual.strip());
                });
    }
}
