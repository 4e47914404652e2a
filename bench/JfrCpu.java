import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where the CPU went, from the execution samples of a JFR recording (jdk.ExecutionSample, or on JDK 25
 * jdk.CPUTimeSample, which also sees time in native code and syscalls: by default the kind with the most events).
 * Run with a JDK 21+: {@code java bench/JfrCpu.java FILE.jfr [TOP] [THREAD|-] [KIND|-] [FOCUS]}.
 *
 * <ul>
 *   <li>self: the top frame of each sample, by method;</li>
 *   <li>inclusive: the share of samples with the method anywhere on the stack (counted once per sample);</li>
 *   <li>nearest io.h3relay frame: the first h3relay method from the top, i.e. what of ours asked for the work.</li>
 * </ul>
 * THREAD (optional) keeps only threads whose name contains it (e.g. "epoll" for the event loops).
 */
public class JfrCpu {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: java bench/JfrCpu.java FILE.jfr [TOP] [THREAD]");
            System.exit(2);
        }
        int top = args.length > 1 ? Integer.parseInt(args[1]) : 40;
        String threadFilter = args.length > 2 && !args[2].equals("-") ? args[2] : null;
        Map<String, Long> self = new HashMap<>();
        Map<String, Long> incl = new HashMap<>();
        Map<String, Long> ours = new HashMap<>();
        Map<String, Long> threads = new HashMap<>();
        // FOCUS (optional): the callers of methods whose name contains it, 14 frames down from the first match;
        // FOCUS!EXCLUDE leaves out the samples with a frame containing EXCLUDE above the match.
        String focus = args.length > 4 ? args[4] : null;
        Map<String, Long> callers = new HashMap<>();
        long total = 0;
        // The kind of sample with the most events (a recording may have both, at different rates).
        Map<String, Long> kinds = new HashMap<>();
        try (RecordingFile rf = new RecordingFile(Path.of(args[0]))) {
            while (rf.hasMoreEvents()) {
                String type = rf.readEvent().getEventType().getName();
                if (type.equals("jdk.ExecutionSample") || type.equals("jdk.CPUTimeSample")) {
                    kinds.merge(type, 1L, Long::sum);
                }
            }
        }
        String kind = args.length > 3 && !args[3].equals("-") ? args[3] : kinds.entrySet().stream().max(Map.Entry.comparingByValue())
                .map(Map.Entry::getKey).orElse("jdk.ExecutionSample");
        try (RecordingFile rf = new RecordingFile(Path.of(args[0]))) {
            while (rf.hasMoreEvents()) {
                RecordedEvent e = rf.readEvent();
                String type = e.getEventType().getName();
                if (!type.equals(kind)) {
                    continue;
                }
                RecordedStackTrace st = e.getStackTrace();
                if (st == null) {
                    continue;
                }
                var t = e.hasField("sampledThread") ? e.getThread("sampledThread") : e.getThread("eventThread");
                String thread = t == null ? "?" : t.getJavaName();
                if (threadFilter != null && (thread == null || !thread.contains(threadFilter))) {
                    continue;
                }
                threads.merge(String.valueOf(thread), 1L, Long::sum);
                total++;
                List<RecordedFrame> frames = st.getFrames();
                if (frames.isEmpty()) {
                    continue;
                }
                self.merge(name(frames.get(0)), 1L, Long::sum);
                Set<String> seen = new HashSet<>();
                String nearest = null;
                for (RecordedFrame f : frames) {
                    String n = name(f);
                    if (seen.add(n)) {
                        incl.merge(n, 1L, Long::sum);
                    }
                    if (nearest == null && n.startsWith("io.h3relay.")) {
                        nearest = n;
                    }
                }
                ours.merge(nearest == null ? "(no h3relay frame)" : nearest, 1L, Long::sum);
                if (focus != null) {
                    // FOCUS!EXCLUDE: only samples where no frame above the focus contains EXCLUDE (its own work)
                    String f = focus.contains("!") ? focus.substring(0, focus.indexOf('!')) : focus;
                    String exclude = focus.contains("!") ? focus.substring(focus.indexOf('!') + 1) : null;
                    for (int i = 0; i < frames.size(); i++) {
                        String n = name(frames.get(i));
                        if (exclude != null && n.contains(exclude)) {
                            break;
                        }
                        if (n.contains(f)) {
                            StringBuilder sb = new StringBuilder();
                            for (int j = i; j < Math.min(frames.size(), i + 14); j++) {
                                sb.append(j == i ? "" : "\n           <- ").append(name(frames.get(j)));
                            }
                            callers.merge(sb.toString(), 1L, Long::sum);
                            break;
                        }
                    }
                }
            }
        }
        System.out.printf("%s: %d samples%s%n", kind, total, threadFilter == null ? "" : " (threads ~ " + threadFilter + ")");
        print("threads", threads, total, top);
        print("self (top frame)", self, total, top);
        print("inclusive", incl, total, top * 2);
        print("nearest io.h3relay frame", ours, total, top);
        if (focus != null) {
            print("callers of " + focus, callers, total, top);
        }
    }

    private static String name(RecordedFrame f) {
        RecordedMethod m = f.getMethod();
        return m == null ? "?" : m.getType().getName() + "." + m.getName();
    }

    private static void print(String title, Map<String, Long> m, long total, int top) {
        System.out.printf("%n%s%n", title);
        m.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(top)
                .forEach(e -> System.out.printf("%6.2f%%  %7d  %s%n", 100.0 * e.getValue() / Math.max(1, total),
                        e.getValue(), e.getKey()));
    }
}
