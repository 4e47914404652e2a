package io.h3relay.server;

import io.h3relay.config.ClusterConfig;
import io.h3relay.config.ListenerConfig;
import io.h3relay.config.Protocol;
import io.h3relay.config.RelayConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Config the loader accepts (it is the public interface) but this version does not act on yet. What would
 * change traffic in a way the user did not ask for stops the start; what is only missing logs one line.
 */
final class NotYetApplied {
    private static final Logger LOG = LoggerFactory.getLogger(RelayServer.class);

    private NotYetApplied() {
    }

    static void check(RelayConfig config) throws StartException {
        for (int i = 0; i < config.clusters().size(); i++) {
            ClusterConfig c = config.clusters().get(i);
            if (c.protocol() != ClusterConfig.UpstreamProtocol.HTTP1) {
                // Speaking HTTP/1.1 to an endpoint configured for h2/h3 would fail in confusing ways.
                throw new StartException("clusters[" + i + "].protocol: " + c.protocol().configName()
                        + " is not supported by this version (expected: http1)", null);
            }
        }
        for (int i = 0; i < config.listeners().size(); i++) {
            ListenerConfig l = config.listeners().get(i);
            warnIf(l.protocols().contains(Protocol.HTTP3) && l.http3().keepAliveInterval() != null
                            && !l.http3().keepAliveInterval().isZero(), "listeners[" + i + "].http3.keep_alive_interval",
                    "QUIC keep-alive PINGs (Netty's QUIC codec has no setting for them; idle_timeout applies)");
        }
    }

    private static void warnIf(boolean condition, String path, String what) {
        if (condition) {
            LOG.warn("config {}: accepted but not applied by this version: {}", path, what);
        }
    }
}
