package io.h3relay.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashSet;
import java.util.Set;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Starts {@link SecondJvm} as soon as a test plan that contains {@link SecondJvmTest} starts (registered in
 * {@code META-INF/services/org.junit.platform.launcher.TestExecutionListener}), so that its classes run while
 * this JVM runs the others. Not with JUnit's parallel execution off: then {@link SecondJvmTest} starts it and
 * waits, one class at a time as asked.
 */
public final class SecondJvmStarter implements TestExecutionListener {
    @Override
    public void testPlanExecutionStarted(TestPlan plan) {
        Set<String> classes = new HashSet<>();
        for (TestIdentifier root : plan.getRoots()) {
            collect(plan, root, classes);
        }
        boolean parallel = plan.getConfigurationParameters()
                .getBoolean("junit.jupiter.execution.parallel.enabled").orElse(false);
        if (parallel && classes.contains(SecondJvmTest.class.getName())) {
            try {
                SecondJvm.start(classes);
            } catch (IOException e) {
                throw new UncheckedIOException("could not start the second test JVM", e);
            }
        }
    }

    private static void collect(TestPlan plan, TestIdentifier id, Set<String> classes) {
        if (id.getSource().orElse(null) instanceof ClassSource cs) {
            classes.add(cs.getClassName());
            return;
        }
        for (TestIdentifier child : plan.getChildren(id)) {
            collect(plan, child, classes);
        }
    }
}
