package io.h3relay.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Python's {@code websockets} library (Debian {@code python3-websockets}, run with {@code /usr/bin/python3}:
 * the python first on PATH may lack it) as a WebSocket endpoint and as a client: implementations we did
 * not write. A missing library skips the test locally and fails it under {@code CI=true}, like
 * {@link ExternalTool}.
 */
public final class PythonWebSockets {
    public static final String PYTHON = "/usr/bin/python3";

    private PythonWebSockets() {
    }

    /** Fails (CI) or skips unless {@code /usr/bin/python3} can import websockets. */
    public static void require() {
        String problem = null;
        if (!Files.isExecutable(Path.of(PYTHON))) {
            problem = PYTHON + " is not installed (Debian package: python3)";
        } else {
            try {
                Process p = new ProcessBuilder(PYTHON, "-c", "import websockets").redirectErrorStream(true).start();
                if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    problem = "python websockets is not installed (Debian package: python3-websockets)";
                }
            } catch (IOException | InterruptedException e) {
                problem = "cannot run " + PYTHON + ": " + e;
            }
        }
        if (problem == null) {
            return;
        }
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(problem + "; CI=true, so this is a failure, not a skip");
        }
        Assumptions.abort(problem);
    }

    static Path script(String name) {
        try (InputStream in = PythonWebSockets.class.getResourceAsStream(name)) {
            Path file = Files.createTempFile("h3relay-", "-" + name);
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts the endpoint ({@code websocket_endpoint.py}: echo, close and abort on command, a 403 path). */
    public static Endpoint startEndpoint() {
        require();
        return new Endpoint();
    }

    /**
     * Runs the Python client against {@code url}: {@code count} messages, each echo checked, then a normal
     * close. Returns its result ({@code OK <count> 1000} on stdout when all went well).
     */
    public static ExternalTool.Result runClient(String url, int count, Path caFile) {
        return runClient(url, count, caFile, false);
    }

    /**
     * {@code waitClose}: after the echoes the client does not close but waits for the other side to, and
     * prints {@code CLOSED <code> <reason>} (1006: the connection ended without a Close frame).
     */
    public static ExternalTool.Result runClient(String url, int count, Path caFile, boolean waitClose) {
        require();
        List<String> command = new java.util.ArrayList<>(List.of(PYTHON, script("websocket_client.py").toString(), url,
                String.valueOf(count)));
        if (caFile != null) {
            command.add(caFile.toString());
        }
        if (waitClose) {
            command.add("wait-close");
        }
        return ExternalTool.run(java.time.Duration.ofSeconds(60), command);
    }

    /** The running endpoint; what it printed is kept (UPGRADE lines per handshake, CLOSED lines). */
    public static final class Endpoint implements AutoCloseable {
        private final Process process;
        private final List<String> lines = new CopyOnWriteArrayList<>();
        private final CompletableFuture<Integer> port = new CompletableFuture<>();

        private Endpoint() {
            try {
                process = new ProcessBuilder(PYTHON, "-u", script("websocket_endpoint.py").toString())
                        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        if (line.startsWith("PORT ")) {
                            port.complete(Integer.parseInt(line.substring(5).trim()));
                        } else {
                            lines.add(line);
                        }
                    }
                } catch (IOException e) {
                    // the process ended
                }
                port.completeExceptionally(new IllegalStateException("the python endpoint exited before listening"));
            }, "python-websocket-endpoint");
            reader.setDaemon(true);
            reader.start();
        }

        public int port() {
            try {
                return port.get(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("the python WebSocket endpoint did not start", e);
            }
        }

        public String address() {
            return "127.0.0.1:" + port();
        }

        /** The UPGRADE lines (one JSON object per handshake the endpoint saw). */
        public List<String> upgrades() {
            return lines.stream().filter(l -> l.startsWith("UPGRADE ")).map(l -> l.substring(8)).toList();
        }

        /** The CLOSED lines ({@code <path> <close code>}), one per ended connection. */
        public List<String> closed() {
            return lines.stream().filter(l -> l.startsWith("CLOSED ")).map(l -> l.substring(7)).toList();
        }

        @Override
        public void close() {
            try {
                process.getOutputStream().close();
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (IOException | InterruptedException e) {
                process.destroyForcibly();
            }
        }
    }
}
