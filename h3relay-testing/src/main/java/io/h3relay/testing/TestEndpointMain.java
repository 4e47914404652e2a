package io.h3relay.testing;

import java.util.concurrent.CountDownLatch;

/**
 * Runs one {@link TestEndpoint} as a standalone process, for benchmarks ({@code bench/run.sh}) and
 * manual tries: {@code java -cp … io.h3relay.testing.TestEndpointMain [--port N] [--name NAME]}.
 *
 * <p>Listens on 127.0.0.1 (port 0 = a free one), prints {@code listening 127.0.0.1:PORT} on stdout
 * once bound, and serves until the process is killed. Requests are counted, not recorded, so memory
 * stays flat however long it runs.
 */
public final class TestEndpointMain {

  private TestEndpointMain() {}

  public static void main(String[] args) throws InterruptedException {
    int port = 0;
    String name = "bench";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(value(args, ++i, "--port"));
        case "--name" -> name = value(args, ++i, "--name");
        case "-h", "--help" -> {
          System.out.println("usage: TestEndpointMain [--port N] [--name NAME]");
          return;
        }
        default -> fail("unknown argument: " + args[i]);
      }
    }
    TestEndpoint endpoint;
    try {
      endpoint = TestEndpoint.startUnrecorded(name, port);
    } catch (RuntimeException e) {
      // The endpoint's event loop thread is not a daemon: exit explicitly rather than hang.
      fail("cannot listen on 127.0.0.1:" + port + ": " + e);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(endpoint::close, "endpoint-shutdown"));
    System.out.println("listening " + endpoint.address());
    System.out.flush();
    new CountDownLatch(1).await();
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      fail(option + " needs a value");
    }
    return args[i];
  }

  private static void fail(String message) {
    System.err.println("TestEndpointMain: " + message);
    System.exit(2);
  }
}
