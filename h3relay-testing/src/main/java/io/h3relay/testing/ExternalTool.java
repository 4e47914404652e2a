package io.h3relay.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Finds and runs programs we did not write (curl, nghttp, h2load, gtlsclient, chromium) from tests.
 *
 * <p>A missing tool skips the test on a developer machine but fails it in CI (env {@code CI=true}),
 * where a silently skipped interop test would hide a broken image. Either way the message names the
 * Debian package to install.
 */
public final class ExternalTool {

  private static final Map<String, String> PACKAGES = Map.ofEntries(
      Map.entry("curl", "curl"),
      Map.entry("nghttp", "nghttp2-client"),
      Map.entry("h2load", "nghttp2-client"),
      Map.entry("nghttpx", "nghttp2-proxy"),
      Map.entry("gtlsclient", "ngtcp2-client"),
      Map.entry("chromium", "chromium"),
      Map.entry("chromedriver", "chromium-driver"),
      Map.entry("promtool", "prometheus"),
      Map.entry("caddy", "caddy"),
      Map.entry("node", "nodejs"),
      Map.entry("npm", "npm"),
      Map.entry("nginx", "nginx"),
      Map.entry("redis-server", "redis-server"));

  private ExternalTool() {}

  /** What a finished process left behind. */
  public record Result(int exitCode, byte[] stdout, String stderr) {

    public String stdoutString() {
      return new String(stdout, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return "exit " + exitCode + ", " + stdout.length + " bytes stdout, stderr: " + stderr.strip();
    }
  }

  /** The absolute path of {@code tool} on {@code PATH}; skips or fails the test if it is missing. */
  public static Path require(String tool) {
    Path found = find(tool);
    if (found != null) {
      return found;
    }
    String message = tool + " is not installed (Debian package: " + packageOf(tool) + ")";
    if ("true".equals(System.getenv("CI"))) {
      return Assertions.fail(message + "; CI=true, so this is a failure, not a skip");
    }
    Assumptions.abort(message);
    throw new AssertionError("unreachable: abort throws");
  }

  /** The Debian package that provides {@code tool}, or the tool name if not known. */
  public static String packageOf(String tool) {
    return PACKAGES.getOrDefault(tool, tool);
  }

  /** {@code tool} on {@code PATH}, or {@code null}. */
  public static Path find(String tool) {
    if (tool.contains("/")) {
      Path p = Path.of(tool);
      return Files.isExecutable(p) ? p.toAbsolutePath() : null;
    }
    String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, tool);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return candidate.toAbsolutePath();
      }
    }
    return null;
  }

  /**
   * Runs {@code command} with no stdin and waits for it. Output goes to temp files rather than
   * pipes, so a chatty process can never block on a full pipe while we wait. If it runs longer
   * than {@code timeout}, it and its children are killed and the test fails.
   */
  public static Result run(Duration timeout, List<String> command) {
    Path out = null;
    Path err = null;
    try {
      out = Files.createTempFile("h3relay-tool", ".out");
      err = Files.createTempFile("h3relay-tool", ".err");
      Process process = new ProcessBuilder(command)
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .redirectOutput(out.toFile())
          .redirectError(err.toFile())
          .start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
        return Assertions.fail("timed out after " + timeout + ": " + String.join(" ", command)
            + "\nstderr: " + Files.readString(err, StandardCharsets.UTF_8));
      }
      return new Result(process.exitValue(), Files.readAllBytes(out), Files.readString(err, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + command, e);
    } finally {
      deleteQuietly(out);
      deleteQuietly(err);
    }
  }

  /** {@link #run(Duration, List)} with the command as varargs. */
  public static Result run(Duration timeout, String... command) {
    return run(timeout, List.of(command));
  }

  static void deleteQuietly(Path file) {
    if (file != null) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException ignored) {
        // A leftover temp file is harmless.
      }
    }
  }
}
