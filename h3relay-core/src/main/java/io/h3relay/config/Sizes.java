package io.h3relay.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Config sizes in bytes: a whole number, optionally with a binary unit: {@code 512}, {@code 64KiB},
 * {@code 8MiB}, {@code 1GiB}. Decimal units (KB, MB, GB) and bare letters (k, m) are rejected rather than
 * guessed at: whether "64KB" means 64,000 or 65,536 differs between tools, so we make users say KiB.
 */
public final class Sizes {
    /** The text used in error messages. */
    public static final String EXPECTED = "a size such as 512, 64KiB, 8MiB or 1GiB";

    private static final Pattern FORM = Pattern.compile("([0-9]{1,15})(KiB|MiB|GiB)?");

    private Sizes() {}

    /** Parses a config size; throws {@link IllegalArgumentException} naming {@link #EXPECTED} otherwise. */
    public static long parse(String text) {
        Matcher m = FORM.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("\"" + text + "\" is not " + EXPECTED);
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2);
        int shift = unit == null ? 0 : switch (unit) {
            case "KiB" -> 10;
            case "MiB" -> 20;
            default -> 30;
        };
        if (n > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("\"" + text + "\" is too large");
        }
        return n << shift;
    }

    /** The shortest config text for a size, the inverse of {@link #parse}. */
    public static String format(long bytes) {
        if (bytes != 0) {
            if (bytes % (1L << 30) == 0) {
                return (bytes >> 30) + "GiB";
            }
            if (bytes % (1L << 20) == 0) {
                return (bytes >> 20) + "MiB";
            }
            if (bytes % (1L << 10) == 0) {
                return (bytes >> 10) + "KiB";
            }
        }
        return Long.toString(bytes);
    }
}
