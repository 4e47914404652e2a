package io.h3relay.config;

import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Renders a config model as stable indented text for golden files: one line per component, sets and maps
 * sorted (their iteration order is randomized per JVM), durations and sizes in config units, paths
 * relative to the config's folder so the goldens do not depend on where the checkout lives.
 */
final class ModelText {
    private final Path baseDir;
    private final StringBuilder out = new StringBuilder();

    private ModelText(Path baseDir) {
        this.baseDir = baseDir;
    }

    static String render(Object model, Path baseDir) {
        ModelText t = new ModelText(baseDir);
        t.value(model, 0);
        return t.out.toString().replace(" \n", "\n");
    }

    private void value(Object v, int depth) {
        if (v instanceof PoliciesConfig p && p.isEmpty()) {
            out.append("PoliciesConfig (none)\n"); // most listeners and routes: keeps the goldens short
            return;
        }
        if (v instanceof Record r) {
            out.append(r.getClass().getSimpleName()).append('\n');
            for (RecordComponent c : r.getClass().getRecordComponents()) {
                indent(depth + 1).append(c.getName()).append(": ");
                value(get(c, r), depth + 1);
            }
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                out.append("{}\n");
                return;
            }
            out.append('\n');
            for (Map.Entry<?, ?> e : new TreeMap<>(m).entrySet()) {
                indent(depth + 1).append(e.getKey()).append(": ");
                value(e.getValue(), depth + 1);
            }
        } else if (v instanceof Collection<?> c) {
            List<Object> items = new ArrayList<>(c);
            if (c instanceof Set<?>) {
                items.sort((a, b) -> String.valueOf(a).compareTo(String.valueOf(b)));
            }
            if (items.isEmpty()) {
                out.append("[]\n");
                return;
            }
            out.append('\n');
            for (Object item : items) {
                indent(depth + 1).append("- ");
                value(item, depth + 1);
            }
        } else {
            out.append(scalar(v)).append('\n');
        }
    }

    private String scalar(Object v) {
        if (v instanceof Duration d) {
            return Durations.format(d);
        }
        if (v instanceof Path p) {
            return baseDir.relativize(p).toString().replace('\\', '/');
        }
        if (v instanceof String s) {
            return ConfigError.quote(s);
        }
        return String.valueOf(v);
    }

    private StringBuilder indent(int depth) {
        return out.append("  ".repeat(depth));
    }

    private static Object get(RecordComponent c, Record r) {
        try {
            return c.getAccessor().invoke(r);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
