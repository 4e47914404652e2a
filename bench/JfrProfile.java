import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where the CPU goes, from the execution samples (jdk.ExecutionSample) of a JFR recording: the methods whose
 * frames appear in the most samples (inclusive: a sample counts once for every distinct method on its stack,
 * so the shares overlap), then the leaf methods (exclusive). Only samples of threads whose name starts with
 * THREAD_PREFIX (default: h3relay-io, the event loops). Run with a JDK 21+:
 * {@code java bench/JfrProfile.java FILE.jfr [TOP] [THREAD_PREFIX]}.
 */
public class JfrProfile {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: java bench/JfrProfile.java FILE.jfr [TOP] [THREAD_PREFIX]");
            System.exit(2);
        }
        int top = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        String prefix = args.length > 2 ? args[2] : "h3relay-io";
        Map<String, Integer> inclusive = new HashMap<>();
        Map<String, Integer> leaf = new HashMap<>();
        int samples = 0;
        try (RecordingFile rf = new RecordingFile(Path.of(args[0]))) {
            while (rf.hasMoreEvents()) {
                RecordedEvent e = rf.readEvent();
                if (!e.getEventType().getName().equals("jdk.ExecutionSample")) {
                    continue;
                }
                var thread = e.getThread("sampledThread");
                if (thread == null || thread.getJavaName() == null || !thread.getJavaName().startsWith(prefix)) {
                    continue;
                }
                RecordedStackTrace st = e.getStackTrace();
                if (st == null || st.getFrames().isEmpty()) {
                    continue;
                }
                samples++;
                Set<String> seen = new HashSet<>();
                List<RecordedFrame> frames = st.getFrames();
                leaf.merge(name(frames.get(0)), 1, Integer::sum);
                for (RecordedFrame f : frames) {
                    String n = name(f);
                    if (seen.add(n)) {
                        inclusive.merge(n, 1, Integer::sum);
                    }
                }
            }
        }
        System.out.printf("%d execution samples of %s* threads%n-- inclusive (share of samples with the method on the stack)%n",
                samples, prefix);
        print(inclusive, samples, top);
        System.out.println("-- leaf (exclusive)");
        print(leaf, samples, top);
    }

    private static String name(RecordedFrame f) {
        String type = f.getMethod().getType().getName();
        int dot = type.lastIndexOf('.');
        return type.substring(dot + 1) + "." + f.getMethod().getName();
    }

    private static void print(Map<String, Integer> m, int samples, int top) {
        List<Map.Entry<String, Integer>> l = new ArrayList<>(m.entrySet());
        l.sort((a, b) -> b.getValue() - a.getValue());
        for (int i = 0; i < Math.min(top, l.size()); i++) {
            System.out.printf("%6.1f%% %6d  %s%n", 100.0 * l.get(i).getValue() / samples, l.get(i).getValue(), l.get(i).getKey());
        }
    }
}
