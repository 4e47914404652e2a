package io.h3relay.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * State shared by the section parsers of one load: the environment, the folder relative paths resolve
 * against, every error found so far, and the YAML line of every path read, so that checks which run after
 * parsing (duplicate names, dangling references) can still point at a line.
 */
final class ParseContext {
    private final Map<String, String> env;
    private final Path baseDir;
    private final List<ConfigError> errors = new ArrayList<>();
    private final Map<String, Integer> lines = new HashMap<>();

    ParseContext(Map<String, String> env, Path baseDir) {
        this.env = Map.copyOf(env);
        this.baseDir = baseDir == null ? Path.of("") : baseDir;
    }

    Map<String, String> env() {
        return env;
    }

    /** Resolves a path as written in the config against the config file's folder. */
    Path resolve(String written) {
        return baseDir.resolve(written).normalize();
    }

    void error(String path, String value, String expected, int line) {
        errors.add(new ConfigError(path, value, expected, line));
    }

    /** A scalar that was read but is not acceptable. */
    void invalid(Scalar s, String expected) {
        error(s.path(), ConfigError.quote(s.text()), expected, s.line());
    }

    void missing(String path, String expected, int line) {
        error(path, "missing", expected, line);
    }

    boolean hasErrors() {
        return !errors.isEmpty();
    }

    void rememberLine(String path, int line) {
        lines.put(path, line);
    }

    /** The line where {@code path} was read, or 0. */
    int lineOf(String path) {
        return lines.getOrDefault(path, 0);
    }

    /** All errors by line; errors without a line last; the stable sort keeps discovery order within a line. */
    List<ConfigError> sortedErrors() {
        List<ConfigError> sorted = new ArrayList<>(errors);
        sorted.sort(Comparator.comparingInt(e -> e.line() == 0 ? Integer.MAX_VALUE : e.line()));
        return sorted;
    }
}
