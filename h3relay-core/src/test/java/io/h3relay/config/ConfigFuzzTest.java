package io.h3relay.config;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzz target (issue 18): any bytes as a config file end in a loaded config or a {@link ConfigException}
 * with at least one error; never another exception, never a hang. Seeds: every golden file under
 * {@code config/valid} and {@code config/invalid}, copied into {@code ConfigFuzzTestInputs/}. In
 * {@code mvn verify} this replays the corpus (Jazzer's sanitizer hooks are off for {@code io.h3relay.config}: see
 * {@code junit-platform.properties}); {@code bench/fuzz.sh} fuzzes it ({@code JAZZER_FUZZ=1}).
 */
@org.junit.jupiter.api.parallel.Isolated("Jazzer's hooks (e.g. its network-connection sanitizer) watch the whole JVM while it runs")
class ConfigFuzzTest {

    @FuzzTest(maxDuration = "10m")
    void anyFileLoadsOrFailsWithAConfigError(byte[] data) {
        String yaml = new String(data, StandardCharsets.UTF_8);
        Path base = GoldenFiles.dir("valid");
        try {
            ConfigLoader.parse(yaml, base, ConfigGoldenTest.ENV);
        } catch (ConfigException e) {
            assertThat(e.errors()).isNotEmpty();
        }
    }
}
