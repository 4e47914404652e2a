package io.h3relay.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Node's {@code ws} library (npm; a WebSocket implementation we did not write) as a client, from the
 * repository's {@code bench/node} project (its {@code package.json} and lock file pin the version; the
 * bench uses the same scripts). The library is installed there with {@code npm ci} on first use. Without
 * node or npm, or when the install fails (no registry), the test is skipped locally and fails under
 * {@code CI=true}, like {@link ExternalTool}.
 */
public final class NodeWs {
  private NodeWs() {}

  /** {@code bench/node}, found from the working directory (a module's, or the repository root). */
  static Path projectDir() {
    Path dir = Path.of("").toAbsolutePath();
    for (int i = 0; i < 4 && dir != null; i++, dir = dir.getParent()) {
      Path candidate = dir.resolve("bench/node");
      if (Files.isRegularFile(candidate.resolve("package.json"))) {
        return candidate;
      }
    }
    throw new IllegalStateException("bench/node/package.json not found above " + Path.of("").toAbsolutePath());
  }

  /** The project with {@code ws} installed; fails (CI) or skips when it cannot be. */
  public static synchronized Path require() {
    Path node = ExternalTool.require("node");
    Path npm = ExternalTool.require("npm");
    Path dir = projectDir();
    if (Files.isRegularFile(dir.resolve("node_modules/ws/package.json"))) {
      return dir;
    }
    ExternalTool.Result r;
    // The tests run in several JVMs at once (surefire forkCount): one npm ci at a time, across processes
    // (npm ci first deletes node_modules, so a second one would pull it from under the first's user).
    try (FileChannel lockFile = FileChannel.open(dir.resolve("node_modules.lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE); FileLock lock = lockFile.lock()) {
      if (Files.isRegularFile(dir.resolve("node_modules/ws/package.json"))) {
        return dir;
      }
      r = ExternalTool.run(Duration.ofSeconds(180), List.of(npm.toString(), "ci", "--prefix",
          dir.toString(), "--no-audit", "--no-fund"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (r.exitCode() == 0 && Files.isRegularFile(dir.resolve("node_modules/ws/package.json"))) {
      return dir;
    }
    String problem = "npm ci in " + dir + " failed (" + node + "): " + r;
    if ("true".equals(System.getenv("CI"))) {
      return Assertions.fail(problem + "; CI=true, so this is a failure, not a skip");
    }
    Assumptions.abort(problem);
    throw new AssertionError("unreachable: abort throws");
  }

  /**
   * {@code ws_client.js}: {@code count} messages to {@code url}, each echo checked, then a close 1000;
   * prints {@code OK <count> <close code>} when all went well. {@code caFile} null: no extra CA.
   */
  public static ExternalTool.Result runClient(String url, int count, Path caFile) {
    Path dir = require();
    List<String> command = new ArrayList<>(List.of(ExternalTool.require("node").toString(),
        dir.resolve("ws_client.js").toString(), url, String.valueOf(count)));
    if (caFile != null) {
      command.add(caFile.toString());
    }
    return ExternalTool.run(Duration.ofSeconds(60), command);
  }
}
