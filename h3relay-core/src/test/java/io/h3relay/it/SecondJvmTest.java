package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Isolated;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/**
 * The results of the classes {@link SecondJvm} ran, as this class's tests: one container per class, one test
 * per test there, failing with the second JVM's stack trace where it failed. {@code @Isolated}, and ordered
 * first ({@link SuiteClassOrderer}), so that it runs just after the concurrent classes and before the other
 * {@code @Isolated} ones, which must not share the machine with the second JVM.
 */
@Isolated("waits for the second test JVM, which must be done before the other @Isolated classes start")
class SecondJvmTest {
    /** Far beyond the second JVM's ~2.5 minutes: a hung test there must still end the build. */
    private static final Duration TIMEOUT = Duration.ofMinutes(15);

    @TestFactory
    @Timeout(value = 20, unit = TimeUnit.MINUTES) // above TIMEOUT; the suite's default is 3 minutes
    Stream<DynamicNode> classesRunInTheSecondJvm() throws Exception {
        if (!SecondJvm.started()) {
            SecondJvm.start(Set.of()); // parallel execution off, or this class selected alone
        }
        boolean exited = SecondJvm.await(TIMEOUT);
        String output = Files.exists(SecondJvm.OUTPUT) ? Files.readString(SecondJvm.OUTPUT) : "";
        System.out.println("SecondJvmTest: second JVM's own output (" + SecondJvm.OUTPUT.toAbsolutePath()
                + "; each class's output is in surefire-reports/CLASS-output.txt):\n" + output);
        assertThat(exited).as("second JVM done within %s; its output:%n%s", TIMEOUT, output).isTrue();
        List<String> lines = Files.exists(SecondJvm.RESULTS) ? Files.readAllLines(SecondJvm.RESULTS) : List.of();
        assertThat(lines).as("second JVM (exit %d) finished its run; its output:%n%s", SecondJvm.exitValue(), output)
                .endsWith(SecondJvm.END);
        Map<String, List<DynamicNode>> byClass = new LinkedHashMap<>();
        for (String c : SecondJvm.classes()) {
            byClass.put(c, new ArrayList<>());
        }
        for (String line : lines.subList(0, lines.size() - 1)) {
            String[] f = line.split("\t", -1);
            String className = f[0], name = f[1], status = f[2];
            String detail = new String(Base64.getDecoder().decode(f[4]), StandardCharsets.UTF_8);
            byClass.computeIfAbsent(className, k -> new ArrayList<>()).add(DynamicTest.dynamicTest(name, () -> {
                switch (status) {
                    case "SUCCESSFUL" -> { }
                    case "SKIPPED", "ABORTED", "CONTAINER_ABORTED" ->
                            throw new TestAbortedException(status + " in the second JVM: " + detail);
                    default -> throw new AssertionFailedError(detail.lines().findFirst().orElse(status)
                            + " (" + status + " in the second JVM, after " + f[3] + " s)\n" + detail);
                }
            }));
        }
        return byClass.entrySet().stream().map(e -> {
            List<DynamicNode> tests = e.getValue();
            if (tests.isEmpty()) {
                tests = List.of(DynamicTest.dynamicTest("ran", () -> {
                    throw new AssertionFailedError(e.getKey() + " reported no test in the second JVM");
                }));
            }
            return DynamicContainer.dynamicContainer(e.getKey().substring(e.getKey().lastIndexOf('.') + 1), tests);
        });
    }
}
