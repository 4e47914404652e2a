package io.h3relay.cli;

import io.h3relay.config.ConfigError;
import io.h3relay.config.ConfigException;
import io.h3relay.config.ConfigLoader;
import io.h3relay.config.RelayConfig;

import java.io.PrintWriter;
import java.nio.file.Path;

/** Loads a config for a command and prints every error the way a shell user reads them. */
final class ConfigLoading {
    private ConfigLoading() {
    }

    /** Returns the config, or null after printing {@code FILE:LINE: path: value (expected: ...)} lines. */
    static RelayConfig loadOrReport(Path file, PrintWriter err) {
        try {
            return ConfigLoader.load(file);
        } catch (ConfigException e) {
            report(file.toString(), e, err);
            return null;
        }
    }

    static void report(String source, ConfigException e, PrintWriter err) {
        for (ConfigError error : e.errors()) {
            err.println(source + ": " + error);
        }
        err.println(source + ": " + e.errors().size() + " error" + (e.errors().size() == 1 ? "" : "s"));
        err.flush();
    }
}
