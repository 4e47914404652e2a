package io.h3relay.server;

import io.h3relay.config.ClusterConfig;
import io.h3relay.config.RelayConfig;

/**
 * Config the loader accepts (it is the public interface) but this version does not act on yet. What would
 * change traffic in a way the user did not ask for stops the start.
 */
final class NotYetApplied {
    private NotYetApplied() {
    }

    static void check(RelayConfig config) throws StartException {
        for (int i = 0; i < config.clusters().size(); i++) {
            ClusterConfig c = config.clusters().get(i);
            if (c.protocol() == ClusterConfig.UpstreamProtocol.AUTO) {
                // Speaking HTTP/1.1 to an endpoint configured for h2/h3 would fail in confusing ways.
                throw new StartException("clusters[" + i + "].protocol: " + c.protocol().configName()
                        + " is not supported by this version (expected: http1, http2, h2c or http3)", null);
            }
        }
    }
}
