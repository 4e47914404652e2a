package io.h3relay.http3;

/**
 * What makes one field of an HTTP/3 request malformed (RFC 9114 section 4.1.2), checked before the request
 * becomes an HTTP/1-style request:
 * <ul>
 *   <li>field values with a control character other than HTAB (NUL, CR, LF, but also 0x01-0x08, 0x0b-0x1f and
 *   DEL: not field-content, RFC 9110 section 5.5), or with leading or trailing whitespace (RFC 9114 section
 *   4.2);</li>
 *   <li>a {@code :method} that is not a token, a {@code :path} with a control character or space;</li>
 *   <li>field names that are not lowercase tokens (pseudo-headers aside), and connection-specific fields
 *   ({@code connection}, {@code keep-alive}, {@code proxy-connection}, {@code transfer-encoding},
 *   {@code upgrade}, {@code te} other than {@code trailers}), as h2 refuses them (RFC 9113 section 8.2.2).</li>
 * </ul>
 */
public final class FieldChecks {
    private FieldChecks() {
    }

    /** Why the field {@code name: value} makes the request malformed, or null. */
    public static String problem(CharSequence name, CharSequence value) {
        if (name.length() == 0) {
            return "empty field name";
        }
        for (int i = name.charAt(0) == ':' ? 1 : 0; i < name.length(); i++) {
            if (!isLowercaseTchar(name.charAt(i))) {
                return "field name is not a lowercase token";
            }
        }
        int n = value.length();
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return "a control character in a field value";
            }
        }
        if (n > 0 && (isWhitespace(value.charAt(0)) || isWhitespace(value.charAt(n - 1)))) {
            return "whitespace around a field value";
        }
        if (connectionSpecific(name, value)) {
            return name.length() == 2 ? "te other than trailers" : "connection-specific field " + name;
        }
        return switch (name.length()) {
            case 5 -> is(name, ":path") ? pathProblem(value) : null;
            case 7 -> is(name, ":method") ? methodProblem(value) : null;
            default -> null;
        };
    }

    /**
     * Whether {@code name} (in any case) is a connection-specific field HTTP/3 does not carry (RFC 9114 section
     * 4.2): {@code connection}, {@code keep-alive}, {@code proxy-connection}, {@code transfer-encoding},
     * {@code upgrade}, and {@code te} with a value other than {@code trailers}. Requests with one are malformed;
     * the listener leaves them out of the responses it encodes.
     */
    public static boolean connectionSpecific(CharSequence name, CharSequence value) {
        return switch (name.length()) {
            case 2 -> is(name, "te") && !"trailers".contentEquals(value);
            case 7 -> is(name, "upgrade");
            case 10 -> is(name, "connection") || is(name, "keep-alive");
            case 16 -> is(name, "proxy-connection");
            case 17 -> is(name, "transfer-encoding");
            default -> false;
        };
    }

    private static boolean is(CharSequence name, String lowercase) {
        return io.netty.util.AsciiString.contentEqualsIgnoreCase(name, lowercase);
    }

    private static String methodProblem(CharSequence value) {
        for (int i = 0; i < value.length(); i++) {
            if (!isTchar(value.charAt(i))) {
                return ":method is not a token";
            }
        }
        return null;
    }

    private static String pathProblem(CharSequence value) {
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) <= ' ' || value.charAt(i) == 0x7f) {
                return "control character or space in :path";
            }
        }
        return null;
    }

    private static boolean isWhitespace(char c) {
        return c == ' ' || c == '\t';
    }

    /** RFC 9110 section 5.6.2 tchar, upper case excluded (RFC 9114 section 4.2). */
    private static boolean isLowercaseTchar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    private static boolean isTchar(char c) {
        return isLowercaseTchar(c) || (c >= 'A' && c <= 'Z');
    }
}
