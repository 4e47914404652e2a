package io.h3relay.cli;

import picocli.CommandLine;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Command-line durations: {@code 10}, {@code 10s}, {@code 500ms}, {@code 2m}, {@code 1.5s} (plain numbers are seconds). */
final class Durations {
    private static final Pattern P = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m)?");

    private Durations() {
    }

    static Duration parse(CommandLine cli, String option, String text) {
        Matcher m = P.matcher(text.trim());
        if (!m.matches()) {
            throw new CommandLine.ParameterException(cli, option + " " + text + " (expected: e.g. 10s, 500ms, 2m)");
        }
        double v = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        double ms = switch (unit) {
            case "ms" -> v;
            case "m" -> v * 60_000;
            default -> v * 1000;
        };
        if (ms > 24 * 3_600_000) {
            throw new CommandLine.ParameterException(cli, option + " " + text + " (expected: at most 24h)");
        }
        return Duration.ofNanos((long) (ms * 1e6));
    }
}
