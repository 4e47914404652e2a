package io.h3relay.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Waiting for and stopping a server process we started (caddy, nginx), shared by their fixtures. */
final class ServerProcesses {
  private ServerProcesses() {}

  /**
   * Returns once {@code 127.0.0.1:port} accepts a connection; fails with the process's log when it exits first,
   * or stops it and fails when it does not listen within {@code timeout}.
   */
  static void awaitListening(String name, Process process, int port, Duration timeout, Supplier<String> log) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited with " + process.exitValue() + ":\n" + log.get());
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
    }
    stop(process);
    throw new IllegalStateException(name + " did not listen on " + port + " within " + timeout + ":\n" + log.get());
  }

  /** SIGTERM, then SIGKILL after 5 s. */
  static void stop(Process process) {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
