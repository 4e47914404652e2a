package io.h3relay.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Caddy (Debian {@code caddy}: Go's TLS and quic-go, servers we did not write) serving one site on
 * 127.0.0.1 over h1, h2 and h3 on the same port number. Caddy takes no port 0, so a free one is picked
 * first. A missing caddy skips the test locally and fails it under {@code CI=true} ({@link ExternalTool}).
 */
public final class Caddy implements AutoCloseable {
  private final Process process;
  private final Path log;
  private final int port;

  private Caddy(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.port = port;
  }

  /**
   * Starts caddy with {@code siteBody} as the block of the site {@code https://HOST:PORT} (its
   * directives, e.g. {@code tls CERT KEY} and {@code respond ...}); returns once it accepts TCP.
   */
  public static Caddy start(Path dir, String host, String siteBody) {
    return start(dir, "https", host, "h1 h2 h3", siteBody);
  }

  /**
   * Starts caddy serving {@code http://127.0.0.1:PORT} (no TLS) with the given {@code protocols} (e.g.
   * {@code h1 h2c}: h2c by prior knowledge and by Upgrade).
   */
  public static Caddy startPlain(Path dir, String protocols, String siteBody) {
    return start(dir, "http", "", protocols, siteBody); // any Host: the proxy sends the downstream one
  }

  private static Caddy start(Path dir, String scheme, String host, String protocols, String siteBody) {
    Path caddy = ExternalTool.require("caddy");
    try {
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      Path config = dir.resolve("Caddyfile");
      Files.writeString(config, """
          {
          \tadmin off
          \tauto_https disable_redirects
          \tskip_install_trust
          \tservers {
          \t\tprotocols %s
          \t}
          }
          %s://%s:%d {
          \tbind 127.0.0.1
          %s
          }
          """.formatted(protocols, scheme, host, port, siteBody.lines().map(l -> "\t" + l)
              .collect(java.util.stream.Collectors.joining("\n"))), StandardCharsets.UTF_8);
      Path log = dir.resolve("caddy.log");
      ProcessBuilder pb = new ProcessBuilder(caddy.toString(), "run", "--config", config.toString(), "--adapter", "caddyfile")
          .redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().put("HOME", dir.toString());
      pb.environment().put("XDG_DATA_HOME", dir.resolve("data").toString());
      pb.environment().put("XDG_CONFIG_HOME", dir.resolve("config").toString());
      Caddy c = new Caddy(pb.start(), log, port);
      c.awaitListening(Duration.ofSeconds(20));
      return c;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start caddy", e);
    }
  }

  public int port() {
    return port;
  }

  /** What caddy printed so far (for failure messages). */
  public String log() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private void awaitListening(Duration timeout) {
    ServerProcesses.awaitListening("caddy", process, port, timeout, this::log);
  }

  @Override
  public void close() {
    ServerProcesses.stop(process);
  }
}
