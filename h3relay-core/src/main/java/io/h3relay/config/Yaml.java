package io.h3relay.config;

import java.util.function.Function;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeType;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/** Small helpers over snakeyaml-engine nodes: lines, descriptions for errors, scalar reading. */
final class Yaml {
    private Yaml() {}

    /** 1-based line of a node's start; snakeyaml marks are 0-based. */
    static int line(Node n) {
        return n.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    }

    /** {@code key:}, {@code key: ~} and {@code key: null} mean "not set"; a quoted "null" is a string. */
    static boolean isNull(Node n) {
        return n instanceof ScalarNode s && s.isPlain() && n.getTag().equals(Tag.NULL);
    }

    /** How a node is shown as the value of an error. */
    static String describe(Node n) {
        if (n.getNodeType() == NodeType.MAPPING) {
            return "a mapping";
        }
        if (n.getNodeType() == NodeType.SEQUENCE) {
            return "a sequence";
        }
        if (n.getNodeType() == NodeType.ANCHOR) {
            return "an alias";
        }
        return isNull(n) ? "null" : ConfigError.quote(((ScalarNode) n).getValue());
    }

    /**
     * Reads a scalar at {@code path}, substituting the environment. Returns null (reported) for a mapping,
     * a sequence, a null, or a failed substitution.
     */
    static Scalar scalar(ParseContext ctx, String path, Node n, String expected) {
        int line = line(n);
        ctx.rememberLine(path, line);
        if (!(n instanceof ScalarNode s) || isNull(n)) {
            ctx.error(path, describe(n), expected, line);
            return null;
        }
        try {
            return new Scalar(EnvSubstitution.substitute(s.getValue(), ctx.env()), path, line);
        } catch (EnvSubstitution.Failure f) {
            ctx.error(path, ConfigError.quote(s.getValue()), f.expected, line);
            return null;
        }
    }

    static <T> T convert(ParseContext ctx, Scalar s, String expected, Function<String, T> convert) {
        T v;
        try {
            v = convert.apply(s.text());
        } catch (IllegalArgumentException e) {
            v = null;
        }
        if (v == null) {
            ctx.invalid(s, expected);
        }
        return v;
    }

    static Long parseLong(String text, long min, long max) {
        if (!text.matches("-?[0-9]{1,18}")) {
            return null;
        }
        long v = Long.parseLong(text);
        return v < min || v > max ? null : v;
    }

    static String rangeText(long min, long max) {
        if (max >= Integer.MAX_VALUE) {
            return "an integer >= " + min;
        }
        return "an integer " + min + "-" + max;
    }
}
