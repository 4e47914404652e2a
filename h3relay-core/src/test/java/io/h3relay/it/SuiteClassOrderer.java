package io.h3relay.it;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.ClassDescriptor;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.ClassOrdererContext;

/**
 * The order of the test classes ({@code junit.jupiter.testclass.order.default} in junit-platform.properties).
 *
 * <p>{@link SecondJvmTest} first: it is then the first of the {@code @Isolated} classes, which JUnit runs one by
 * one after all the concurrent ones, in this order, so the main JVM waits for the second JVM before the others.
 *
 * <p>The longest concurrent classes next to both ends of the list, the longest outermost, the others in between
 * as found: JUnit's two workers take the classes from the two ends (one steals from the start of the queue, the
 * other runs its own from the end), so each starts with long ones and both finish on short ones. In the order
 * found, two long classes came last (ChromiumWebSocketTest, LossyHttp3Test) and one worker idled ~20 s while
 * the other finished. The list is by the seconds each took in a full run (surefire's reports); a class missing
 * from it only runs in the middle.
 */
public final class SuiteClassOrderer implements ClassOrderer {
    /** Concurrent classes of 8 s or more in a full run, longest first (ChromiumWebSocketTest runs in SecondJvm). */
    static final List<String> LONGEST = List.of(
            "LossyHttp3Test", "CircuitBreakerTest", "WebSocketLimitsTest", "ListenerReloadTest", "Http2UpstreamTest",
            "Http3InteropTest", "DrainTest", "GrpcWebTest",
            "SmugglingDowngradeTest", "ControlCenterUiTest", "Http3UpstreamPoolRulesTest", "DrainDelayTest",
            "Http3FallbackTest", "RuntimeApplyTest", "SmugglingH1Test", "WebSocketH2UpstreamTest", "CorsTest",
            "Http3QpackTest", "GrpcTest", "ClientResetTest", "WebSocketTest", "Http3UpstreamTest");

    @Override
    public void orderClasses(ClassOrdererContext context) {
        List<? extends ClassDescriptor> found = new ArrayList<>(context.getClassDescriptors());
        Map<String, Integer> rank = new HashMap<>();
        for (int i = 0; i < LONGEST.size(); i++) {
            rank.put("io.h3relay.it." + LONGEST.get(i), i);
        }
        List<ClassDescriptor> head = new ArrayList<>();
        List<ClassDescriptor> middle = new ArrayList<>();
        ClassDescriptor[] longest = new ClassDescriptor[LONGEST.size()];
        for (ClassDescriptor d : found) {
            Integer r = rank.get(d.getTestClass().getName());
            if (d.getTestClass() == SecondJvmTest.class) {
                head.addFirst(d);
            } else if (r != null) {
                longest[r] = d;
            } else {
                middle.add(d);
            }
        }
        List<ClassDescriptor> tail = new ArrayList<>();
        boolean toHead = true;
        for (ClassDescriptor d : longest) {
            if (d != null) {
                if (toHead) {
                    head.add(d);
                } else {
                    tail.addFirst(d);
                }
                toHead = !toHead;
            }
        }
        List<ClassDescriptor> order = new ArrayList<>(head);
        order.addAll(middle);
        order.addAll(tail);
        Map<ClassDescriptor, Integer> position = new HashMap<>();
        for (int i = 0; i < order.size(); i++) {
            position.put(order.get(i), i);
        }
        context.getClassDescriptors().sort((a, b) -> Integer.compare(position.get(a), position.get(b)));
    }
}
