package io.h3relay.cli;

import java.nio.file.Path;

/** Where commands keep generated files (self-signed certificates): --state-dir, $H3RELAY_STATE_DIR, ./.h3relay. */
final class StateDir {
    private StateDir() {
    }

    static Path resolve(Path option) {
        if (option != null) {
            return option;
        }
        return Path.of(System.getenv().getOrDefault("H3RELAY_STATE_DIR", ".h3relay"));
    }
}
