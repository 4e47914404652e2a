package io.h3relay.it;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The core module's second test JVM (docs/design.md, "Testing: how the suite runs"). The classes in
 * {@link #CLASSES} must run alone in their JVM (they read JVM-wide state: Netty's direct memory, the whole
 * process's heap, descriptors and threads, the process's log, a system property every relay reads), but they do
 * not need the CPU to themselves. In the one test JVM they ran one after another at the end of the module's
 * tests, with the second core idle (JUnit runs {@code @Isolated} classes after all the concurrent ones), which
 * made about 130 s of the module's 7.5 minutes. So {@code mvn verify} runs them in a JVM of their own, one
 * at a time, started by {@link SecondJvmStarter} when the test plan starts: they run while the main JVM runs its
 * classes two at a time. The longest concurrent class (ChromiumWebSocketTest) runs there too, after them, to
 * even out the two JVMs. {@link SecondJvmTest} reports their results (each test by name, failures with their
 * stack traces) and makes the main JVM wait for the second one before its own {@code @Isolated} classes, which
 * need the whole machine (timing, CPU), run.
 *
 * <p>The classes stay {@code @Isolated} and run as usual when selected on their own ({@code -Dtest=SoakTest}):
 * surefire's default execution excludes them (h3relay-core's pom), and a class the main JVM runs itself is never
 * run again in the second. With {@code -Djunit.jupiter.execution.parallel.enabled=false} the second JVM starts
 * only when {@link SecondJvmTest} runs, so nothing overlaps.
 *
 * <p>The second JVM: the same java, JVM options, class path, environment ({@code CI} included) and working
 * directory as the main one, JUnit's parallel execution off. Each class's output goes to
 * {@code target/surefire-reports/CLASS-output.txt}, like surefire's; results to
 * {@code target/second-jvm/results.tsv}, one line a test (class, name, status, seconds, the failure's stack trace
 * in Base64), then {@code END}.
 */
final class SecondJvm {
    /** The classes run in the second JVM, in this order (the longest first). */
    static final List<String> CLASSES = List.of(
            "io.h3relay.it.SoakTest",
            "io.h3relay.it.QuicInitialFloodTest",
            "io.h3relay.it.SlowClientTest",
            "io.h3relay.it.LargeBodyTest",
            "io.h3relay.it.CompressionTest",
            "io.h3relay.it.ClientResetLogTest",
            "io.h3relay.tls.ServerTlsContextsTest",
            "io.h3relay.upstream.UpstreamTlsContextsTest",
            // Not @Isolated: the longest of the concurrent classes (~40 s), here to even out the two JVMs (the
            // classes above take ~130 s, the main JVM's concurrent ones ~250 s two at a time).
            "io.h3relay.it.ChromiumWebSocketTest");

    static final Path DIR = Path.of("target", "second-jvm");
    static final Path RESULTS = DIR.resolve("results.tsv");
    static final Path OUTPUT = DIR.resolve("output.txt");
    static final Path REPORTS = Path.of("target", "surefire-reports");
    static final String END = "END";

    private static Process process;
    private static List<String> classes = List.of();

    private SecondJvm() {
    }

    /** Starts the second JVM for the classes of {@link #CLASSES} not in {@code inMainJvm}, once. */
    static synchronized void start(Set<String> inMainJvm) throws IOException {
        if (process != null) {
            return;
        }
        // -Dh3relay.second-jvm.classes=A,B: only those (to try this machinery without the long ones).
        String only = System.getProperty("h3relay.second-jvm.classes", "");
        classes = (only.isBlank() ? CLASSES : List.of(only.split(","))).stream()
                .filter(c -> !inMainJvm.contains(c)).toList();
        Files.createDirectories(DIR);
        Files.deleteIfExists(RESULTS);
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // A debugger's or profiler's agent belongs to the main JVM (its port would be taken twice).
            if (!arg.startsWith("-agentlib:jdwp") && !arg.startsWith("-Xrunjdwp")) {
                cmd.add(arg);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(SecondJvm.class.getName());
        cmd.add(ProcessHandle.current().pid() + "");
        cmd.addAll(classes);
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(OUTPUT.toFile()).start();
        Process started = process;
        Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly, "second-jvm-reaper"));
    }

    static synchronized boolean started() {
        return process != null;
    }

    static synchronized List<String> classes() {
        return classes;
    }

    /** Waits for the second JVM to exit; false if it was still running after {@code timeout} (it is killed). */
    static boolean await(Duration timeout) throws InterruptedException {
        Process p;
        synchronized (SecondJvm.class) {
            p = process;
        }
        if (p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            return true;
        }
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        return false;
    }

    static int exitValue() {
        return process.exitValue();
    }

    /** The second JVM: {@code SecondJvm PARENT_PID CLASS...}. */
    public static void main(String[] args) throws Exception {
        // If the main JVM goes (killed, a surefire timeout), so does this one.
        ProcessHandle.of(Long.parseLong(args[0]))
                .ifPresent(parent -> parent.onExit().thenRun(() -> Runtime.getRuntime().halt(3)));
        LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request()
                .configurationParameter("junit.jupiter.execution.parallel.enabled", "false");
        for (int i = 1; i < args.length; i++) {
            request.selectors(DiscoverySelectors.selectClass(args[i]));
        }
        LauncherDiscoveryRequest built = request.build();
        try (PrintStream results = new PrintStream(new FileOutputStream(RESULTS.toFile()), true,
                StandardCharsets.UTF_8)) {
            Files.createDirectories(REPORTS);
            Recorder recorder = new Recorder(results);
            LauncherFactory.create().execute(built, recorder);
            results.println(END);
        }
        System.out.flush();
        // Threads a test left behind (pools, timers) must not keep this JVM alive.
        Runtime.getRuntime().halt(0);
    }

    /** Writes one line per finished test (and per failed container) and splits the output by class. */
    private static final class Recorder implements TestExecutionListener {
        private final PrintStream results;
        private final PrintStream console = System.out;
        private final PrintStream consoleErr = System.err;
        private final java.util.Map<String, Long> started = new java.util.concurrent.ConcurrentHashMap<>();
        private PrintStream classOutput;

        Recorder(PrintStream results) {
            this.results = results;
        }

        @Override
        public void executionStarted(TestIdentifier id) {
            started.put(id.getUniqueId(), System.nanoTime());
            if (id.getSource().orElse(null) instanceof ClassSource cs && isTopClass(id)) {
                try {
                    OutputStream file = new FileOutputStream(
                            REPORTS.resolve(cs.getClassName() + "-output.txt").toFile());
                    classOutput = new PrintStream(file, true, StandardCharsets.UTF_8);
                    System.setOut(classOutput);
                    System.setErr(classOutput);
                } catch (IOException e) {
                    console.println("SecondJvm: no output file for " + cs.getClassName() + ": " + e);
                }
            }
        }

        @Override
        public void executionSkipped(TestIdentifier id, String reason) {
            if (id.isTest()) {
                line(id, "SKIPPED", 0, reason);
            }
        }

        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            long t0 = started.getOrDefault(id.getUniqueId(), System.nanoTime());
            double seconds = (System.nanoTime() - t0) / 1e9;
            String trace = result.getThrowable().map(Recorder::trace).orElse("");
            if (id.isTest()) {
                line(id, result.getStatus().name(), seconds, trace);
            } else if (result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
                // A failed @BeforeAll / @AfterAll, a class that could not be loaded: reported as a test of its own.
                line(id, "CONTAINER_" + result.getStatus().name(), seconds, trace);
            }
            if (id.getSource().orElse(null) instanceof ClassSource cs && isTopClass(id)) {
                console.printf("SecondJvm: %s %.1f s %s%n", cs.getClassName(), seconds, result.getStatus());
                System.setOut(console);
                System.setErr(consoleErr);
                if (classOutput != null) {
                    classOutput.close();
                    classOutput = null;
                }
            }
        }

        private static boolean isTopClass(TestIdentifier id) {
            // The class itself, not a @Nested one inside it (its unique id has one [class:...] segment).
            return id.getUniqueId().indexOf("[class:") == id.getUniqueId().lastIndexOf("[class:")
                    && id.getUniqueId().contains("[class:");
        }

        private synchronized void line(TestIdentifier id, String status, double seconds, String detail) {
            String className = id.getUniqueId().replaceFirst(".*?\\[class:([^\\]]+)\\].*", "$1");
            String name = id.getLegacyReportingName();
            if (!id.getDisplayName().equals(name) && !name.startsWith(id.getDisplayName())) {
                // A parameterized case, "m(String)[1]": its display name has its index and arguments.
                name = name.replaceFirst("\\[\\d+]$", "") + " " + id.getDisplayName();
            }
            name = name.replace('\t', ' ').replace('\n', ' ');
            results.printf("%s\t%s\t%s\t%.3f\t%s%n", className, name, status, seconds,
                    Base64.getEncoder().encodeToString(detail.getBytes(StandardCharsets.UTF_8)));
        }

        private static String trace(Throwable t) {
            StringWriter w = new StringWriter();
            t.printStackTrace(new PrintWriter(w));
            return w.toString();
        }
    }
}
