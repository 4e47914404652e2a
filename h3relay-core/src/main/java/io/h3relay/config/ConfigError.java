package io.h3relay.config;

/**
 * One problem found while loading a config file, printed as
 * {@code line 12: listeners[0].address: "abc" (expected: host:port, e.g. 0.0.0.0:8443)}.
 *
 * @param path     where in the document, e.g. {@code routes[2].match.path_prefix}; top-level keys have no prefix
 * @param value    the offending value as shown to the user: a quoted scalar ({@code "abc"}), or a description
 *                 such as {@code missing}, {@code unknown key}, {@code a mapping}, {@code a sequence}
 * @param expected what would have been accepted
 * @param line     1-based YAML line, or 0 when unknown
 */
public record ConfigError(String path, String value, String expected, int line) {

    /** Quotes a scalar the way errors show it, escaping quotes, backslashes and control characters. */
    public static String quote(String scalar) {
        StringBuilder b = new StringBuilder(scalar.length() + 2).append('"');
        for (int i = 0; i < scalar.length(); i++) {
            char c = scalar.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    @Override
    public String toString() {
        String where = line > 0 ? "line " + line + ": " : "";
        return where + path + ": " + value + " (expected: " + expected + ")";
    }
}
