package io.h3relay.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * A YAML mapping being read by a section parser, with its path and line for errors.
 *
 * <p>Every accessor records its key as known; {@link #finish()} then reports the keys nobody asked for as
 * unknown. So a parser must ask for every key it accepts, unconditionally, and validate combinations after.
 * Accessors never throw: a bad value is reported to the {@link ParseContext} and read as null, and a value
 * that failed once is not reported again as missing.
 */
final class YamlMap {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    private final ParseContext ctx;
    private final String path;
    private final int line;
    private final Map<String, Node> values = new LinkedHashMap<>();
    private final Map<String, Integer> keyLines = new LinkedHashMap<>();
    private final Set<String> known = new LinkedHashSet<>();

    private YamlMap(ParseContext ctx, String path, MappingNode node) {
        this.ctx = ctx;
        this.path = path;
        this.line = node == null ? 0 : Yaml.line(node);
        if (node != null) {
            readKeys(node);
        }
    }

    /** The document root; an empty document reads as an empty mapping. */
    static YamlMap root(ParseContext ctx, Node node) {
        if (node == null || Yaml.isNull(node)) {
            return new YamlMap(ctx, "", null);
        }
        if (node instanceof MappingNode m) {
            return new YamlMap(ctx, "", m);
        }
        ctx.error("(root)", Yaml.describe(node), "a mapping of sections: listeners, routes, clusters, ...",
                Yaml.line(node));
        return new YamlMap(ctx, "", null);
    }

    /** A mapping at {@code path}, or null (reported) when the node is something else. */
    static YamlMap of(ParseContext ctx, String path, Node node) {
        if (node instanceof MappingNode m) {
            ctx.rememberLine(path, Yaml.line(m));
            return new YamlMap(ctx, path, m);
        }
        ctx.error(path, Yaml.describe(node), "a mapping", Yaml.line(node));
        return null;
    }

    private void readKeys(MappingNode node) {
        for (NodeTuple t : node.getValue()) {
            Node k = t.getKeyNode();
            if (!(k instanceof ScalarNode ks)) {
                ctx.error(path.isEmpty() ? "(key)" : path, Yaml.describe(k), "a plain key", Yaml.line(k));
                continue;
            }
            String key = ks.getValue();
            if (values.containsKey(key)) {
                ctx.error(path(key), "duplicate key", "each key once, first at line " + keyLines.get(key),
                        Yaml.line(k));
                continue;
            }
            values.put(key, t.getValueNode());
            keyLines.put(key, Yaml.line(k));
        }
    }

    String path() {
        return path;
    }

    int line() {
        return line;
    }

    ParseContext ctx() {
        return ctx;
    }

    String path(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** The line of a key's value, or of this mapping when the key is absent. */
    int lineOf(String key) {
        Node n = values.get(key);
        return n == null ? line : Yaml.line(n);
    }

    /** A present key's value as errors show it: a quoted scalar, "a mapping" or "a sequence". */
    String shown(String key) {
        Node n = values.get(key);
        return n == null ? "missing" : Yaml.describe(n);
    }

    /** Reports a present key whose value is fine on its own but not in this combination. */
    void notAllowed(String key, String expected) {
        ctx.error(path(key), shown(key), expected, lineOf(key));
    }

    /** True if the key is present with a non-null value. */
    boolean has(String key) {
        return node(key) != null;
    }

    private Node node(String key) {
        known.add(key);
        Node n = values.get(key);
        return n == null || Yaml.isNull(n) ? null : n;
    }

    /** Reports a missing required key at this mapping's line. */
    void missing(String key, String expected) {
        ctx.missing(path(key), expected, line);
    }

    Scalar scalar(String key, String expected) {
        Node n = node(key);
        return n == null ? null : Yaml.scalar(ctx, path(key), n, expected);
    }

    String string(String key) {
        Scalar s = scalar(key, "a string");
        return s == null ? null : s.text();
    }

    String string(String key, String fallback) {
        String s = string(key);
        return s == null && !has(key) ? fallback : s;
    }

    /**
     * Reads a scalar and converts it; {@code convert} returns null or throws IllegalArgumentException to
     * reject the text, which is then reported with {@code expected}.
     */
    <T> T value(String key, String expected, Function<String, T> convert) {
        Scalar s = scalar(key, expected);
        return s == null ? null : Yaml.convert(ctx, s, expected, convert);
    }

    Integer integer(String key, int min, int max) {
        Long v = longValue(key, min, max);
        return v == null ? null : v.intValue();
    }

    int integer(String key, int min, int max, int fallback) {
        Integer v = integer(key, min, max);
        return v == null ? fallback : v;
    }

    Long longValue(String key, long min, long max) {
        return value(key, Yaml.rangeText(min, max), t -> Yaml.parseLong(t, min, max));
    }

    boolean bool(String key, boolean fallback) {
        Boolean v = value(key, "true or false",
                t -> t.equals("true") ? Boolean.TRUE : t.equals("false") ? Boolean.FALSE : null);
        return v == null ? fallback : v;
    }

    Duration duration(String key, Duration fallback) {
        Duration d = value(key, Durations.EXPECTED, Durations::parse);
        return d == null ? fallback : d;
    }

    /** A duration that must be greater than zero (a zero timeout would fail every request). */
    Duration positiveDuration(String key, Duration fallback) {
        Duration d = value(key, "a duration > 0 such as 250ms, 10s, 2m or 1h", t -> {
            Duration v = Durations.parse(t);
            return v.isZero() ? null : v;
        });
        return d == null ? fallback : d;
    }

    long size(String key, long min, long max, long fallback) {
        boolean bounded = max < Integer.MAX_VALUE;
        String expected = Sizes.EXPECTED + (bounded ? ", from " + Sizes.format(min) + " to " + Sizes.format(max)
                : min > 0 ? ", at least " + Sizes.format(min) : "");
        Long v = value(key, expected, t -> {
            long n = Sizes.parse(t);
            return n < min || n > max ? null : n;
        });
        return v == null ? fallback : v;
    }

    /** One of a fixed set of words; the map's key order is the order shown in the error. */
    <E> E oneOf(String key, Map<String, E> options, E fallback) {
        E v = value(key, "one of " + String.join(", ", options.keySet()), options::get);
        return v == null ? fallback : v;
    }

    /**
     * The required {@code name} of a listener, route or cluster. Names show up in metrics labels and
     * admin URLs, hence the small alphabet.
     */
    String name(String kind) {
        String expected = "a " + kind + " name of letters, digits, '-', '_' and '.'";
        if (!has("name")) {
            missing("name", expected);
            return null;
        }
        return value("name", expected, t -> NAME.matcher(t).matches() ? t : null);
    }

    /**
     * A {@code host:port}; a well-formed address with a port out of range gets its own message, since
     * "expected host:port" would not say what is wrong with {@code 0.0.0.0:70000}.
     */
    HostPort address(String key, int minPort) {
        Scalar s = scalar(key, Addresses.expected(minPort));
        if (s == null) {
            return null;
        }
        HostPort a = Addresses.parse(s.text(), minPort);
        if (a == null) {
            ctx.invalid(s, Addresses.hasPortOutOfRange(s.text(), minPort)
                    ? "a port " + minPort + "-65535 in host:port" : Addresses.expected(minPort));
        }
        return a;
    }

    /** True when the key holds a scalar (not a mapping, a sequence or null). */
    boolean isScalar(String key) {
        return node(key) instanceof ScalarNode;
    }

    /** A nested mapping, or null when absent or not a mapping (reported). */
    YamlMap map(String key) {
        Node n = node(key);
        return n == null ? null : of(ctx, path(key), n);
    }

    /** A sequence of mappings; absent reads as empty. Bad items are reported and skipped. */
    List<YamlMap> maps(String key) {
        List<YamlMap> out = new ArrayList<>();
        List<Node> items = sequence(key, "a list of mappings");
        for (int i = 0; i < items.size(); i++) {
            YamlMap m = of(ctx, path(key) + "[" + i + "]", items.get(i));
            if (m != null) {
                out.add(m);
            }
        }
        return out;
    }

    /** A sequence of scalars; absent reads as empty. Bad items are reported and skipped. */
    List<Scalar> scalars(String key, String expectedItem) {
        List<Scalar> out = new ArrayList<>();
        List<Node> items = sequence(key, "a list: [" + expectedItem + ", ...]");
        for (int i = 0; i < items.size(); i++) {
            Scalar s = Yaml.scalar(ctx, path(key) + "[" + i + "]", items.get(i), expectedItem);
            if (s != null) {
                out.add(s);
            }
        }
        return out;
    }

    /** A mapping of scalar to scalar (headers); keys in document order. */
    Map<String, Scalar> scalarMap(String key, String expectedValue) {
        Map<String, Scalar> out = new LinkedHashMap<>();
        YamlMap m = map(key);
        if (m != null) {
            for (String k : m.values.keySet()) {
                Scalar s = m.scalar(k, expectedValue);
                if (s != null) {
                    out.put(k, s);
                }
            }
        }
        return out;
    }

    private List<Node> sequence(String key, String expected) {
        Node n = node(key);
        if (n == null) {
            return List.of();
        }
        if (n instanceof SequenceNode seq) {
            return seq.getValue();
        }
        ctx.error(path(key), Yaml.describe(n), expected, Yaml.line(n));
        return List.of();
    }

    /** True when the key holds a sequence with no items ({@code []}), which most lists must not be. */
    boolean isEmptyList(String key) {
        return node(key) instanceof SequenceNode seq && seq.getValue().isEmpty();
    }

    /** Reports every key that no accessor asked for. Call once, after reading all keys. */
    void finish() {
        for (String key : values.keySet()) {
            if (!known.contains(key)) {
                ctx.error(path(key), "unknown key", "one of " + String.join(", ", known), keyLines.get(key));
            }
        }
    }
}
