package io.h3relay.server;

import io.h3relay.config.RelayConfig;

/**
 * Config the loader accepts (it is the public interface) but this version does not act on yet. What would
 * change traffic in a way the user did not ask for stops the start.
 */
final class NotYetApplied {
    private NotYetApplied() {
    }

    static void check(RelayConfig config) throws StartException {
        // Every cluster protocol (http1, http2, h2c, http3, auto) is served now; kept as the place for the next
        // key the loader accepts before this version acts on it.
    }
}
