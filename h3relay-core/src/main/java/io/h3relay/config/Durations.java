package io.h3relay.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Config durations: a whole number with one unit, {@code 250ms}, {@code 10s}, {@code 2m}, {@code 1h}, or a
 * bare {@code 0}. Deliberately strict: no fractions, no compound forms ({@code 1m30s}), no bare numbers other
 * than 0, because an unexplained {@code 30} (seconds? milliseconds?) is the classic config mistake.
 */
public final class Durations {
    /** The text used in error messages. */
    public static final String EXPECTED = "a duration such as 250ms, 10s, 2m, 1h or 0";

    private static final Pattern FORM = Pattern.compile("([0-9]{1,12})(ms|s|m|h)");

    private Durations() {}

    /** Parses a config duration; throws {@link IllegalArgumentException} naming {@link #EXPECTED} otherwise. */
    public static Duration parse(String text) {
        if (text.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = FORM.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("\"" + text + "\" is not " + EXPECTED);
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    /** The shortest config text for a duration, the inverse of {@link #parse} for whole units. */
    public static String format(Duration d) {
        if (d.isZero()) {
            return "0";
        }
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
