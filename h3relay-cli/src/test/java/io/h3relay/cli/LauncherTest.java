package io.h3relay.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code h3relay} launcher script's first build, with a stand-in {@code mvn} on PATH that talks like
 * Debian's Maven 3.8 does under {@code -q} (bare ANSI resets) and fails: what reaches the terminal has no
 * escape codes, and the failure still stops the launcher.
 */
class LauncherTest {
    @TempDir
    Path root;

    @Test
    void firstBuildOutputCarriesNoEscapeCodesAndAFailedBuildStopsTheLauncher() throws Exception {
        Path script = Path.of("..", "h3relay").toAbsolutePath().normalize();
        Files.copy(script, root.resolve("h3relay"));
        Path bin = Files.createDirectories(root.resolve("bin"));
        Files.writeString(bin.resolve("mvn"), """
                #!/bin/sh
                printf '\\033[0m\\033[0m[ERROR] stand-in build failed: %s\\n' "$*"
                exit 7
                """);
        for (Path p : new Path[] {root.resolve("h3relay"), bin.resolve("mvn")}) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("h3relay").toString(), "--version")
                .redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();

        assertThat(out).contains("h3relay: building", "[ERROR] stand-in build failed: -q -B -Dstyle.color=never")
                .doesNotContain("\u001b");
        assertThat(p.exitValue()).as("a failed build stops the launcher:\n" + out).isEqualTo(7);
    }
}
