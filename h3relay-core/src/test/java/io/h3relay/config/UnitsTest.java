package io.h3relay.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class UnitsTest {
    @ParameterizedTest
    @CsvSource({"0, 0", "250ms, 250", "10s, 10000", "2m, 120000", "1h, 3600000", "0ms, 0", "90s, 90000"})
    void parsesDurations(String text, long millis) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10", "1.5s", "-1s", "10 s", "10S", "1m30s", "1d", "s", "ms", "1000000000000000s"})
    void rejectsOtherDurations(String text) {
        assertThatThrownBy(() -> Durations.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(Durations.EXPECTED);
    }

    @ParameterizedTest
    @CsvSource({"0, 0", "250ms, 250ms", "90s, 90s", "60s, 1m", "3600s, 1h", "1500ms, 1500ms"})
    void formatsDurationsInTheLargestWholeUnit(String in, String out) {
        assertThat(Durations.format(Durations.parse(in))).isEqualTo(out);
    }

    @ParameterizedTest
    @CsvSource({"0, 0", "512, 512", "64KiB, 65536", "8MiB, 8388608", "1GiB, 1073741824", "1536KiB, 1572864"})
    void parsesSizes(String text, long bytes) {
        assertThat(Sizes.parse(text)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "1.5MiB", "64KB", "64kb", "8MB", "1GB", "16k", "64 KiB", "1TiB", "KiB",
            "999999999999999GiB"})
    void rejectsOtherSizes(String text) {
        assertThatThrownBy(() -> Sizes.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @CsvSource({"0, 0", "512, 512", "65536, 64KiB", "1048576, 1MiB", "1073741824, 1GiB", "1000, 1000"})
    void formatsSizes(long bytes, String text) {
        assertThat(Sizes.format(bytes)).isEqualTo(text);
    }
}
