package io.h3relay.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * nginx (Debian {@code nginx}, a server we did not write) in the foreground as the current user, with all
 * its files in a test folder, serving one {@code server} block on 127.0.0.1. nginx takes no port 0, so a
 * free one is picked first. The access log records {@code $server_protocol} per request, so a test can
 * show which HTTP version arrived. A missing nginx skips the test locally and fails it under
 * {@code CI=true} ({@link ExternalTool}).
 */
public final class Nginx implements AutoCloseable {
  private final Process process;
  private final Path dir;
  private final int port;

  private Nginx(Process process, Path dir, int port) {
    this.process = process;
    this.dir = dir;
    this.port = port;
  }

  /**
   * Starts nginx with {@code serverBody} inside {@code server { ... }}; {@code @PORT@} in it is replaced by
   * the port (e.g. {@code listen 127.0.0.1:@PORT@ ssl http2;}). Returns once it accepts TCP.
   */
  public static Nginx start(Path dir, String serverBody) {
    Path nginx = ExternalTool.find("nginx") != null ? ExternalTool.find("nginx")
        : Files.isExecutable(Path.of("/usr/sbin/nginx")) ? Path.of("/usr/sbin/nginx") : ExternalTool.require("nginx");
    try {
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      Path config = dir.resolve("nginx.conf");
      Files.writeString(config, """
          daemon off;
          master_process off;
          worker_processes 1;
          pid %1$s/nginx.pid;
          error_log %1$s/error.log info;
          events { worker_connections 256; }
          http {
            log_format proto '$request $status $server_protocol';
            access_log %1$s/access.log proto;
            client_body_temp_path %1$s/body;
            proxy_temp_path %1$s/proxy;
            fastcgi_temp_path %1$s/fastcgi;
            uwsgi_temp_path %1$s/uwsgi;
            scgi_temp_path %1$s/scgi;
            server {
          %2$s
            }
          }
          """.formatted(dir, serverBody.replace("@PORT@", String.valueOf(port)).lines()
              .map(l -> "    " + l).collect(java.util.stream.Collectors.joining("\n"))), StandardCharsets.UTF_8);
      ProcessBuilder pb = new ProcessBuilder(nginx.toString(), "-p", dir.toString(), "-c", config.toString(),
          "-e", dir.resolve("error.log").toString())
          .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile());
      Nginx n = new Nginx(pb.start(), dir, port);
      n.awaitListening(Duration.ofSeconds(20));
      return n;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start nginx", e);
    }
  }

  public int port() {
    return port;
  }

  /** The access log so far: one {@code "$request $status $server_protocol"} line per request. */
  public String accessLog() {
    return read("access.log");
  }

  /** The error log and stdout so far (for failure messages). */
  public String log() {
    return read("error.log") + read("stdout.log");
  }

  private String read(String name) {
    try {
      Path p = dir.resolve(name);
      return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "(cannot read " + name + ": " + e + ")";
    }
  }

  private void awaitListening(Duration timeout) {
    ServerProcesses.awaitListening("nginx", process, port, timeout, this::log);
  }

  @Override
  public void close() {
    ServerProcesses.stop(process);
  }
}
