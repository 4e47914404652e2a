import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Bytes allocated per request from a JFR recording (settings=profile) taken around a counted load, and where
 * they come from. Run with a JDK 21+: {@code java bench/JfrAllocation.java FILE.jfr REQUESTS [DEPTH]}.
 *
 * <ul>
 *   <li>The total is exact: jdk.ThreadAllocationStatistics (each thread's allocated bytes, sampled at the
 *       recording's start and end), per thread and summed, divided by REQUESTS.</li>
 *   <li>The breakdown weighs jdk.ObjectAllocationSample by its weight (the bytes its thread allocated since
 *       that thread's previous sample), by class, by the nearest io.h3relay frame, and by stack (DEPTH frames).
 *       A thread's FIRST sample is skipped: its weight is everything the thread allocated before the
 *       recording (warm-up, connection set-up), which once made one sample in a connection's constructor look
 *       like three quarters of all allocation.</li>
 * </ul>
 */
public class JfrAllocation {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: java bench/JfrAllocation.java FILE.jfr REQUESTS [DEPTH]");
            System.exit(2);
        }
        long requests = Long.parseLong(args[1]);
        int depth = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        Map<String, Long> byClass = new HashMap<>();
        Map<String, Long> bySite = new HashMap<>();
        Map<String, Long> byStack = new HashMap<>();
        Map<String, long[]> threads = new HashMap<>();
        Set<Long> seen = new HashSet<>();
        long sampled = 0;
        try (RecordingFile rf = new RecordingFile(Path.of(args[0]))) {
            while (rf.hasMoreEvents()) {
                RecordedEvent e = rf.readEvent();
                String type = e.getEventType().getName();
                if (type.equals("jdk.ThreadAllocationStatistics")) {
                    String name = e.getThread("thread") == null ? "?" : e.getThread("thread").getJavaName();
                    long v = e.getLong("allocated");
                    long[] minMax = threads.computeIfAbsent(name, k -> new long[] {Long.MAX_VALUE, 0});
                    minMax[0] = Math.min(minMax[0], v);
                    minMax[1] = Math.max(minMax[1], v);
                    continue;
                }
                if (!type.equals("jdk.ObjectAllocationSample")) {
                    continue;
                }
                long tid = e.getThread("eventThread") == null ? -1 : e.getThread("eventThread").getJavaThreadId();
                if (seen.add(tid)) {
                    continue; // the thread's first sample weighs all it allocated before: not this load's
                }
                long w = e.getLong("weight");
                sampled += w;
                String cls = e.getClass("objectClass").getName();
                byClass.merge(cls, w, Long::sum);
                StringBuilder stack = new StringBuilder(cls);
                String site = "(no io.h3relay frame)";
                RecordedStackTrace st = e.getStackTrace();
                if (st != null) {
                    int n = 0;
                    for (RecordedFrame f : st.getFrames()) {
                        String frame = f.getMethod().getType().getName().replaceAll("^.*\\.", "") + "."
                                + f.getMethod().getName() + ":" + f.getLineNumber();
                        if (n++ < depth) {
                            stack.append("\n        ").append(frame);
                        }
                        if (site.startsWith("(") && f.getMethod().getType().getName().startsWith("io.h3relay")) {
                            site = frame;
                        }
                    }
                }
                bySite.merge(site, w, Long::sum);
                byStack.merge(stack.toString(), w, Long::sum);
            }
        }
        long exact = 0;
        for (var t : threads.entrySet()) {
            long d = t.getValue()[1] - t.getValue()[0];
            exact += d;
            if (d >= 1_000_000) {
                System.out.printf("thread %s: %.1f MB, %.0f B/request%n", t.getKey(), d / 1e6, (double) d / requests);
            }
        }
        System.out.printf("all threads (jdk.ThreadAllocationStatistics): %.0f bytes/request%n", (double) exact / requests);
        System.out.printf("sampled weight (first sample per thread skipped): %.0f bytes/request%n", (double) sampled / requests);
        print("by class", byClass, sampled, requests, 25);
        print("by nearest io.h3relay frame", bySite, sampled, requests, 30);
        print("by stack", byStack, sampled, requests, 25);
    }

    private static void print(String title, Map<String, Long> m, long total, long requests, int limit) {
        System.out.println("-- " + title);
        m.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(limit)
                .forEach(en -> System.out.printf("%5.1f%% %6.0f B/req  %s%n", 100.0 * en.getValue() / total,
                        (double) en.getValue() / requests, en.getKey()));
    }
}
