package io.h3relay.telemetry;

/** Appends JSON values to a StringBuilder: the few shapes the access log and introspection write. */
public final class Json {
    private Json() {
    }

    /** A JSON string, or {@code null} for null. */
    public static StringBuilder string(StringBuilder out, String s) {
        if (s == null) {
            return out.append("null");
        }
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
                    if (c < 0x20 || c == 0x7f || (c >= 0xd800 && c <= 0xdfff && !validSurrogate(s, i))) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"');
    }

    /** A lone surrogate would make invalid UTF-8; escaped, it stays valid JSON. */
    private static boolean validSurrogate(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    /** {@code "name":} with the comma before it unless it is the object's first member. */
    public static StringBuilder name(StringBuilder out, String name) {
        char last = out.length() == 0 ? '{' : out.charAt(out.length() - 1);
        if (last != '{' && last != '[') {
            out.append(',');
        }
        return string(out, name).append(':');
    }

    public static StringBuilder field(StringBuilder out, String name, String value) {
        return string(name(out, name), value);
    }

    public static StringBuilder field(StringBuilder out, String name, long value) {
        return name(out, name).append(value);
    }
}
