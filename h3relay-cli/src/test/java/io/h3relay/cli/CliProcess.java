package io.h3relay.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code h3relay} as a separate process, the way a user runs it: same JDK and classpath as the tests,
 * output captured line by line, stopped with SIGTERM.
 */
final class CliProcess implements AutoCloseable {
    private final Process process;
    /**
     * Every line the process printed. Not a CopyOnWriteArrayList: under load an access log prints thousands of
     * lines a second, and copying the whole list per line left the reader (and so {@link #awaitLine}) far
     * behind the process (ReloadUnderLoadTest missed its reload line for 5 s).
     */
    private final List<String> lines = new ArrayList<>();

    private CliProcess(Process process) {
        this.process = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (lines) {
                        lines.add(line);
                    }
                }
            } catch (IOException ignored) {
                // process ended
            }
        }, "cli-output");
        reader.setDaemon(true);
        reader.start();
    }

    static CliProcess start(Path workDir, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        // SIGHUP back to its default first: under nohup (or any parent that ignores it) the JVM would inherit the
        // ignored signal and not install its handler, and a test's SIGHUP would reload nothing (coreutils env).
        cmd.add("env");
        cmd.add("--default-signal=HUP");
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true);
        return new CliProcess(pb.start());
    }

    /** Waits for an output line matching {@code regex} and returns its first group. */
    String awaitLine(String regex, Duration timeout) throws InterruptedException {
        Pattern p = Pattern.compile(regex);
        long deadline = System.nanoTime() + timeout.toNanos();
        int from = 0;
        while (System.nanoTime() < deadline) {
            List<String> batch;
            synchronized (lines) {
                batch = new ArrayList<>(lines.subList(from, lines.size()));
            }
            from += batch.size();
            for (String line : batch) {
                Matcher m = p.matcher(line);
                if (m.find()) {
                    return m.groupCount() > 0 ? m.group(1) : line;
                }
            }
            if (!process.isAlive() && System.nanoTime() > deadline - timeout.toNanos() / 2) {
                break;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no line matching " + regex + " (process " + (process.isAlive() ? "running"
                : "exited " + process.exitValue()) + ") in:\n" + output());
    }

    String output() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    /** SIGTERM, through the process handle: {@link Process#destroy()} also closes our end of its output. */
    void sigterm() {
        process.toHandle().destroy();
    }

    /** SIGHUP (reload), with kill(1). */
    void sighup() throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new AssertionError("kill -HUP " + process.pid() + " failed");
        }
    }

    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("process still running after " + timeout + ":\n" + output());
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
