package io.h3relay.config;

import java.time.Duration;

/**
 * The {@code http3:} block of a listener. Parsed and validated now; applied by the HTTP/3 listener.
 * {@code idleTimeout} null means "limits.keep_alive_timeout"; {@code advertisedPort} null means the
 * listener's port; {@code sockets} 0 means auto (one per core); {@code keepAliveInterval} zero means off.
 * {@code activeMigration} false sets disable_active_migration in our transport parameters.
 * {@code ticketKeyFile} null: session ticket keys are made in memory and rotated every {@code ticketKeyRotation};
 * a file: its keys (first encrypts, all decrypt), read again when it changes. {@code qlogDir} null: no qlog
 * (the admin API cannot turn it on). {@code serverId} (lower-case hex) null: random connection ids
 * (no QUIC-LB encoding).
 * {@code statelessResetKeyFile} null: a random key per process.
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
        boolean activeMigration,
        ZeroRttUnsafe zeroRttUnsafe,
        java.nio.file.Path ticketKeyFile,
        Duration ticketKeyRotation,
        java.nio.file.Path qlogDir,
        double qlogSample,
        long qlogMaxSize,
        String serverId,
        java.nio.file.Path statelessResetKeyFile,
        long qpackMaxTableCapacity,
        int qpackBlockedStreams) {

    public enum CongestionControl { RENO, CUBIC, BBR }

    /** What an unsafe request (not GET/HEAD/OPTIONS) that arrived in 0-RTT gets: 425 Too Early, or held. */
    public enum ZeroRttUnsafe { REJECT, WAIT }

    public static Http3Config defaults() {
        return new Http3Config(true, Duration.ofHours(24), null, null, Duration.ZERO, 128, 32,
                16L << 20, 1L << 20, CongestionControl.CUBIC, true, false, 0, true, true, ZeroRttUnsafe.REJECT,
                null, Duration.ofHours(12), null, 1.0, 256L << 20, null, null, 0, 0);
    }
}
