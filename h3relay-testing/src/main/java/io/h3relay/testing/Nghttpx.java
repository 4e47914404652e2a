package io.h3relay.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * nghttpx (Debian {@code nghttp2-proxy}: nghttp2's reverse proxy, a server we did not write) listening for
 * plaintext HTTP/1.1 and h2c on 127.0.0.1 and forwarding to one HTTP/1.1 backend. Its h2 frontend speaks
 * RFC 8441: it advertises SETTINGS_ENABLE_CONNECT_PROTOCOL and turns an extended CONNECT with
 * {@code :protocol websocket} into an HTTP/1.1 Upgrade towards the backend, which makes it an h2 WebSocket
 * endpoint for h3relay (with Python {@code websockets} behind it). A missing nghttpx skips the test locally
 * and fails it under {@code CI=true} ({@link ExternalTool}).
 */
public final class Nghttpx implements AutoCloseable {
  private final Process process;
  private final Path log;
  private final int port;

  private Nghttpx(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.port = port;
  }

  /** Starts nghttpx in front of {@code backend} ({@code host:port}, HTTP/1.1); returns once it accepts TCP. */
  public static Nghttpx startH2c(Path dir, String backend) {
    Path nghttpx = ExternalTool.require("nghttpx");
    try {
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      int colon = backend.lastIndexOf(':');
      Path log = dir.resolve("nghttpx.log");
      ProcessBuilder pb = new ProcessBuilder(nghttpx.toString(), "--conf=/dev/null",
          "--frontend=127.0.0.1," + port + ";no-tls",
          "--backend=" + backend.substring(0, colon) + "," + backend.substring(colon + 1),
          "--workers=1", "--no-ocsp", "--errorlog-file=" + log, "--accesslog-file=" + dir.resolve("access.log"),
          "--pid-file=" + dir.resolve("nghttpx.pid"))
          .redirectErrorStream(true).redirectOutput(dir.resolve("nghttpx.out").toFile());
      Nghttpx n = new Nghttpx(pb.start(), log, port);
      ServerProcesses.awaitListening("nghttpx", n.process, port, Duration.ofSeconds(20), n::log);
      return n;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start nghttpx", e);
    }
  }

  public int port() {
    return port;
  }

  public String address() {
    return "127.0.0.1:" + port;
  }

  /** What nghttpx logged so far (for failure messages). */
  public String log() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() {
    ServerProcesses.stop(process);
  }
}
