package io.h3relay.config;

import io.h3relay.config.CompressionConfig.Algorithm;
import io.h3relay.config.CompressionConfig.Encoding;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code policies.compression}:
 * <pre>
 *   compression:
 *     encodings: [zstd, br, gzip]            # offered, preferred first (default: all three in this order)
 *     levels: { gzip: 6, br: 4, zstd: 3 }    # per encoding (gzip 1-9, br 0-11, zstd 1-19)
 *     content_types: [text/*, application/json]
 *     min_size: 1KiB
 * </pre>
 */
public final class CompressionParser {
    private static final Map<String, Algorithm> TOKENS = new LinkedHashMap<>();
    private static final Pattern MEDIA = Pattern.compile(
            "[a-z0-9][a-z0-9!#$&^_.+-]*/(\\*|\\*\\+[a-z0-9!#$&^_.+-]+|[a-z0-9][a-z0-9!#$&^_.+-]*)");

    static {
        for (Algorithm a : Algorithm.values()) {
            TOKENS.put(a.token, a);
        }
    }

    private CompressionParser() {}

    /** Reads {@code key} of {@code parent} (null when absent). */
    static CompressionConfig parse(YamlMap parent, String key) {
        YamlMap m = parent.map(key);
        return m == null ? null : parse(m);
    }

    static CompressionConfig parse(YamlMap m) {
        String expectedEncoding = "one of " + String.join(", ", TOKENS.keySet());
        List<Algorithm> order = new ArrayList<>();
        for (Scalar s : m.scalars("encodings", expectedEncoding)) {
            Algorithm a = TOKENS.get(s.text());
            if (a == null) {
                m.ctx().invalid(s, expectedEncoding);
            } else if (order.contains(a)) {
                m.ctx().invalid(s, "each encoding once");
            } else {
                order.add(a);
            }
        }
        if (m.isEmptyList("encodings")) {
            m.notAllowed("encodings", "at least one of " + String.join(", ", TOKENS.keySet()));
        }
        if (!m.has("encodings")) {
            order.addAll(List.of(Algorithm.values()));
        }
        Map<Algorithm, Integer> levels = new EnumMap<>(Algorithm.class);
        YamlMap lm = m.map("levels");
        if (lm != null) {
            for (Algorithm a : Algorithm.values()) {
                Integer level = lm.integer(a.token, a.minLevel, a.maxLevel);
                if (level != null) {
                    levels.put(a, level);
                }
            }
            lm.finish();
        }
        List<String> types = new ArrayList<>();
        String expectedType = "a media type such as text/html, text/* or application/*+json";
        for (Scalar s : m.scalars("content_types", expectedType)) {
            String t = s.text().toLowerCase(java.util.Locale.ROOT);
            if (!MEDIA.matcher(t).matches()) {
                m.ctx().invalid(s, expectedType);
            } else {
                types.add(t);
            }
        }
        if (m.isEmptyList("content_types")) {
            m.notAllowed("content_types", "at least one media type");
        }
        if (!m.has("content_types")) {
            types.addAll(CompressionConfig.DEFAULT_CONTENT_TYPES);
        }
        long minSize = m.size("min_size", 0, 1L << 30, CompressionConfig.DEFAULT_MIN_SIZE);
        m.finish();
        List<Encoding> encodings = new ArrayList<>();
        for (Algorithm a : order) {
            encodings.add(new Encoding(a, levels.getOrDefault(a, a.defaultLevel)));
        }
        return new CompressionConfig(encodings, types, minSize);
    }
}
