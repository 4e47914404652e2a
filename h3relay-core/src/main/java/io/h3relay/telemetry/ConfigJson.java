package io.h3relay.telemetry;

import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The effective config (the frozen records) as JSON with config key names, for admin {@code /introspect}.
 * Secrets never leave: values under a key that names one (password, secret, token, credentials) and
 * header values that carry one (Authorization, Cookie, API keys) become {@code "[redacted]"}.
 */
public final class ConfigJson {
    static final String REDACTED = "[redacted]";
    private static final Pattern SECRET_KEY = Pattern.compile("(?i).*(password|secret|token|credential).*");
    private static final Pattern SECRET_HEADER = Pattern.compile(
            "(?i)(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key)");

    private ConfigJson() {
    }

    public static void append(StringBuilder out, Object value) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Record r) {
            out.append('{');
            for (RecordComponent c : r.getClass().getRecordComponents()) {
                String key = snake(c.getName());
                Json.name(out, key);
                Object v = get(c, r);
                if (v != null && SECRET_KEY.matcher(key).matches()) {
                    Json.string(out, REDACTED);
                } else {
                    append(out, v);
                }
            }
            out.append('}');
        } else if (value instanceof Map<?, ?> m) {
            out.append('{');
            for (Map.Entry<?, ?> e : new TreeMap<>(m).entrySet()) {
                String key = String.valueOf(e.getKey());
                Json.name(out, key);
                if (e.getValue() != null && (SECRET_HEADER.matcher(key).matches() || SECRET_KEY.matcher(key).matches())) {
                    Json.string(out, REDACTED);
                } else {
                    append(out, e.getValue());
                }
            }
            out.append('}');
        } else if (value instanceof Collection<?> c) {
            out.append('[');
            boolean first = true;
            for (Object item : c) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                append(out, item);
            }
            out.append(']');
        } else if (value instanceof Number || value instanceof Boolean) {
            out.append(value);
        } else if (value instanceof Duration d) {
            Json.string(out, d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms");
        } else if (value instanceof Path p) {
            Json.string(out, p.toString());
        } else if (value instanceof Enum<?> e) {
            Json.string(out, configName(e));
        } else {
            Json.string(out, value.toString());
        }
    }

    private static Object get(RecordComponent c, Record r) {
        try {
            return c.getAccessor().invoke(r);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read " + c, e);
        }
    }

    /** The enum's own config spelling when it has one ({@code configName()}), else its lower-case name. */
    private static String configName(Enum<?> e) {
        try {
            Method m = e.getClass().getMethod("configName");
            return String.valueOf(m.invoke(e));
        } catch (ReflectiveOperationException ex) {
            return e.name().toLowerCase(Locale.ROOT);
        }
    }

    /** {@code maxRequestBodySize} → {@code max_request_body_size}, like the YAML keys. */
    static String snake(String camel) {
        StringBuilder sb = new StringBuilder(camel.length() + 4);
        for (int i = 0; i < camel.length(); i++) {
            char c = camel.charAt(i);
            if (Character.isUpperCase(c)) {
                sb.append('_').append(Character.toLowerCase(c));
            } else if (Character.isDigit(c) && i > 0 && !Character.isDigit(camel.charAt(i - 1))) {
                sb.append('_').append(c);
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
