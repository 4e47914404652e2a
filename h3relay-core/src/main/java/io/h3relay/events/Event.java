package io.h3relay.events;

import java.time.Instant;
import java.util.Map;

/**
 * One thing that happened: {@code type} (e.g. {@code health}, {@code reload}, {@code drain}), when, and its
 * details (strings, numbers, booleans), in insertion order.
 */
public record Event(long id, Instant time, String type, Map<String, Object> details) {
    public Event {
        details = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(details));
    }

    /** {@code {"id":1,"time":"...","type":"...", ...details}} on one line. */
    public String toJson() {
        StringBuilder out = new StringBuilder(128).append("{\"id\":").append(id).append(",\"time\":");
        quote(out, time.toString()).append(",\"type\":");
        quote(out, type);
        for (Map.Entry<String, Object> e : details.entrySet()) {
            out.append(',');
            quote(out, e.getKey()).append(':');
            Object v = e.getValue();
            if (v == null) {
                out.append("null");
            } else if (v instanceof Number || v instanceof Boolean) {
                out.append(v);
            } else if (v instanceof Iterable<?> it) {
                out.append('[');
                boolean first = true;
                for (Object o : it) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    quote(out, String.valueOf(o));
                }
                out.append(']');
            } else {
                quote(out, v.toString());
            }
        }
        return out.append('}').toString();
    }

    static StringBuilder quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f || Character.isSurrogate(c)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"');
    }
}
