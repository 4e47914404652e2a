package io.h3relay.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A broken file must end in a ConfigException, never in another exception from half-parsed state. Each
 * line of the realistic golden file is deleted, or its value replaced by a value of the wrong shape.
 */
class ConfigRobustnessTest {
    private static final List<String> REPLACEMENTS = List.of("[]", "{}", "~", "x", "-1", "[x, {a: b}]", "\"${NOPE}\"");

    @Test
    void everyMutationOfARealisticFileFailsCleanlyOrLoads() throws Exception {
        Path yaml = GoldenFiles.dir("valid").resolve("realistic.yaml");
        List<String> lines = Files.readAllLines(yaml);
        int mutations = 0;
        for (int i = 0; i < lines.size(); i++) {
            List<String> deleted = new ArrayList<>(lines);
            deleted.remove(i);
            check(deleted, yaml.getParent());
            mutations++;
            String line = lines.get(i);
            int colon = line.indexOf(": ");
            if (colon < 0) {
                continue;
            }
            for (String replacement : REPLACEMENTS) {
                List<String> changed = new ArrayList<>(lines);
                changed.set(i, line.substring(0, colon + 2) + replacement);
                check(changed, yaml.getParent());
                mutations++;
            }
        }
        assertThat(mutations).isGreaterThan(500);
    }

    private static void check(List<String> lines, Path baseDir) {
        String text = String.join("\n", lines);
        try {
            ConfigLoader.parse(text, baseDir, ConfigGoldenTest.ENV);
        } catch (ConfigException e) {
            assertThat(e.errors()).isNotEmpty();
        } catch (RuntimeException e) {
            throw new AssertionError("unexpected " + e + " for:\n" + text, e);
        }
    }
}
