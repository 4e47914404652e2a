package io.h3relay.config;

import java.util.List;

/**
 * A route's (or listener's default) response compression: the encodings offered, in the order preferred
 * when a client accepts several equally, each with its level; the media types compressed; and the smallest
 * declared {@code Content-Length} worth compressing.
 *
 * @param encodings    offered encodings, preferred first
 * @param contentTypes media types compressed: {@code text/html}, {@code text/*} or {@code application/*+json}
 * @param minSize      responses with a smaller Content-Length go out as they are (a response without one
 *                     is compressed: its size is unknown)
 */
public record CompressionConfig(List<Encoding> encodings, List<String> contentTypes, long minSize) {

    public static final List<String> DEFAULT_CONTENT_TYPES = List.of("text/*", "application/json",
            "application/javascript", "application/xml", "application/*+json", "application/*+xml",
            "image/svg+xml", "application/wasm");
    public static final long DEFAULT_MIN_SIZE = 1024;

    public CompressionConfig {
        encodings = List.copyOf(encodings);
        contentTypes = List.copyOf(contentTypes);
    }

    /** One content coding with its level. */
    public record Encoding(Algorithm algorithm, int level) {
    }

    /** The codings h3relay can produce; {@code token} is the Content-Encoding value. */
    public enum Algorithm {
        ZSTD("zstd", 1, 19, 3),
        BROTLI("br", 0, 11, 4),
        GZIP("gzip", 1, 9, 6);

        public final String token;
        public final int minLevel;
        public final int maxLevel;
        public final int defaultLevel;

        Algorithm(String token, int minLevel, int maxLevel, int defaultLevel) {
            this.token = token;
            this.minLevel = minLevel;
            this.maxLevel = maxLevel;
            this.defaultLevel = defaultLevel;
        }
    }
}
