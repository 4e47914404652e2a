package io.h3relay.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

class ExternalToolTest {

  @Test
  void requireResolvesAnInstalledTool() {
    assertThat(Files.isExecutable(ExternalTool.require("sh"))).isTrue();
  }

  @Test
  void missingToolSkipsLocallyAndFailsInCi() {
    Class<? extends Throwable> expected =
        "true".equals(System.getenv("CI")) ? AssertionFailedError.class : TestAbortedException.class;

    assertThatThrownBy(() -> ExternalTool.require("h3relay-no-such-tool"))
        .isInstanceOf(expected)
        .hasMessageContaining("h3relay-no-such-tool is not installed");
  }

  @Test
  void namesTheDebianPackage() {
    assertThat(ExternalTool.packageOf("curl")).isEqualTo("curl");
    assertThat(ExternalTool.packageOf("nghttp")).isEqualTo("nghttp2-client");
    assertThat(ExternalTool.packageOf("h2load")).isEqualTo("nghttp2-client");
    assertThat(ExternalTool.packageOf("gtlsclient")).isEqualTo("ngtcp2-client");
    assertThat(ExternalTool.packageOf("chromium")).isEqualTo("chromium");
  }

  @Test
  void runCollectsExitCodeAndOutput() {
    ExternalTool.Result result =
        ExternalTool.run(Duration.ofSeconds(30), List.of("sh", "-c", "printf out; printf err >&2; exit 3"));

    assertThat(result.exitCode()).isEqualTo(3);
    assertThat(result.stdoutString()).isEqualTo("out");
    assertThat(result.stderr()).isEqualTo("err");
  }

  @Test
  void runKillsAndFailsOnTimeout() {
    long started = System.nanoTime();

    assertThatThrownBy(() -> ExternalTool.run(Duration.ofMillis(300), "sleep", "30"))
        .isInstanceOf(AssertionFailedError.class)
        .hasMessageContaining("timed out");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
  }
}
