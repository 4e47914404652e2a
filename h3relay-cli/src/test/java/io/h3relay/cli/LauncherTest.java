package io.h3relay.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code h3relay} launcher script's first build, with a stand-in {@code mvn} on PATH that talks like
 * Debian's Maven 3.8 does under {@code -q} (bare ANSI resets) and fails: what reaches the terminal has no
 * escape codes, and the failure still stops the launcher. And the JVM line it runs, with a stand-in {@code java}
 * that prints its arguments: the footprint defaults come first and {@code H3RELAY_JAVA_OPTS} after them (the
 * last option wins, so the user's overrides the default), {@code MALLOC_ARENA_MAX} is a default only.
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

    /** Runs the launcher with a stand-in JDK (version 99) whose java prints its arguments and MALLOC_ARENA_MAX. */
    private List<String> jvmLine(String javaOpts, String mallocArenaMax) throws Exception {
        return jvmLine(javaOpts, mallocArenaMax, List.of("--version"));
    }

    private List<String> jvmLine(String javaOpts, String mallocArenaMax, List<String> args) throws Exception {
        Files.copy(Path.of("..", "h3relay").toAbsolutePath().normalize(), root.resolve("h3relay"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.createDirectories(root.resolve("h3relay-cli/target"));
        Files.writeString(root.resolve("h3relay-cli/target/h3relay.jar"), "stand-in");   // present: no build
        Path javaHome = root.resolve("jdk");
        Path java = Files.createDirectories(javaHome.resolve("bin")).resolve("java");
        Files.writeString(java, """
                #!/bin/sh
                case "$*" in *-XshowSettings:properties*) echo '    java.specification.version = 99' >&2; exit 0 ;; esac
                for a in "$@"; do echo "arg:$a"; done
                echo "MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-unset}"
                """);
        for (Path p : new Path[] {root.resolve("h3relay"), java}) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        List<String> command = new java.util.ArrayList<>(List.of("bash", root.resolve("h3relay").toString()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", javaHome.toString());
        pb.environment().remove("MALLOC_ARENA_MAX");
        pb.environment().remove("H3RELAY_JAVA_OPTS");
        if (javaOpts != null) pb.environment().put("H3RELAY_JAVA_OPTS", javaOpts);
        if (mallocArenaMax != null) pb.environment().put("MALLOC_ARENA_MAX", mallocArenaMax);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out.lines().toList();
    }

    @Test
    void footprintDefaultsComeFirstAndH3relayJavaOptsOverrideThem() throws Exception {
        List<String> line = jvmLine("-Xmx1g -XX:TrimNativeHeapInterval=0", null);
        assertThat(line).contains("arg:-XX:+UseSerialGC", "arg:-Xms16m", "arg:-Xmx256m", "arg:-XX:MaxDirectMemorySize=256m",
                "arg:-Xss512k", "arg:-Dio.netty.allocator.type=pooled", "arg:-XX:TrimNativeHeapInterval=5000",
                "arg:--sun-misc-unsafe-memory-access=allow", "MALLOC_ARENA_MAX=2");
        // the user's options after the defaults (the JVM takes the last), and all of them before -jar
        assertThat(line.indexOf("arg:-Xmx1g")).isGreaterThan(line.indexOf("arg:-Xmx256m"));
        assertThat(line.indexOf("arg:-XX:TrimNativeHeapInterval=0"))
                .isGreaterThan(line.indexOf("arg:-XX:TrimNativeHeapInterval=5000"));
        assertThat(line.indexOf("arg:-jar")).isGreaterThan(line.indexOf("arg:-XX:TrimNativeHeapInterval=0"));
        assertThat(line.getLast()).isEqualTo("MALLOC_ARENA_MAX=2");
        assertThat(line).contains("arg:--version");
    }

    @Test
    void benchGetsALargeYoungGenerationUnlessTheUserSizesTheHeap() throws Exception {
        List<String> bench = jvmLine(null, null, List.of("bench", "--version"));
        assertThat(bench).contains("arg:-Xms256m", "arg:-Xmn128m", "arg:bench");
        assertThat(bench.indexOf("arg:-Xms256m")).as("after the footprint's -Xms16m: it wins")
                .isGreaterThan(bench.indexOf("arg:-Xms16m"));
        assertThat(jvmLine(null, null, List.of("serve", "--version"))).doesNotContain("arg:-Xmn128m", "arg:-Xms256m");
        // a smaller -Xmx after -Xms256m would stop the JVM ("Initial heap size set to a larger value than the maximum")
        assertThat(jvmLine("-Xmx128m", null, List.of("bench", "--version")))
                .contains("arg:-Xmx128m").doesNotContain("arg:-Xms256m", "arg:-Xmn128m");
        assertThat(jvmLine("-XX:MaxHeapSize=100m", null, List.of("bench", "--version"))).doesNotContain("arg:-Xms256m");
    }

    @Test
    void mallocArenaMaxFromTheEnvironmentIsKept() throws Exception {
        assertThat(jvmLine(null, "4")).contains("MALLOC_ARENA_MAX=4").doesNotContain("MALLOC_ARENA_MAX=2");
    }
}
