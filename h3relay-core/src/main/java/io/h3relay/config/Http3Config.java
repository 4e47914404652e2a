package io.h3relay.config;

import java.time.Duration;

/**
 * The {@code http3:} block of a listener. Parsed and validated now; applied by the HTTP/3 listener.
 * {@code idleTimeout} null means "limits.keep_alive_timeout"; {@code advertisedPort} null means the
 * listener's port; {@code sockets} 0 means auto (one per core); {@code keepAliveInterval} zero means off.
 * {@code activeMigration} false sets disable_active_migration in our transport parameters.
 */
public record Http3Config(
        boolean altSvc,
        Duration altSvcMaxAge,
        Integer advertisedPort,
        Duration idleTimeout,
        Duration keepAliveInterval,
        int maxBidirectionalStreams,
        int maxUnidirectionalStreams,
        long initialMaxData,
        long initialMaxStreamData,
        CongestionControl congestionControl,
        boolean retry,
        boolean zeroRtt,
        int sockets,
        boolean gso,
        boolean activeMigration) {

    public enum CongestionControl { RENO, CUBIC, BBR }

    public static Http3Config defaults() {
        return new Http3Config(true, Duration.ofHours(24), null, null, Duration.ZERO, 128, 32,
                16L << 20, 1L << 20, CongestionControl.CUBIC, true, false, 0, true, true);
    }
}
