package io.h3relay.route;

import io.h3relay.grpc.GrpcStatus;
import io.h3relay.config.RouteConfig;

import java.util.BitSet;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A route's retry rules, compiled once from {@link RouteConfig.Retry}: what may be retried (conditions and
 * statuses), how many tries in all, how long each may wait for its response head, the back-off between
 * tries, and how much request body is kept to send again. Without a {@code retry} block: one try, and only
 * bodiless requests may be sent again (on a stale keep-alive connection, see Forwarding).
 */
public final class RetryPolicy {
    public static final RetryPolicy NONE = new RetryPolicy(null);

    /** Why an attempt failed, as the {@code on:} list names it. */
    public enum Condition { CONNECT_FAILURE, REFUSED_STREAM, RESET }

    private final int attempts;
    private final boolean onConnectFailure;
    private final boolean onRefusedStream;
    private final boolean onReset;
    private final BitSet statuses = new BitSet(600);
    /** gRPC status codes (of trailers-only responses) to retry on, by code. */
    private final BitSet grpcStatuses = new BitSet(17);
    private final long perTryTimeoutMillis;
    private final long backoffBaseMillis;
    private final long backoffMaxMillis;
    private final long replayLimit;

    RetryPolicy(RouteConfig.Retry config) {
        if (config == null) {
            attempts = 1;
            onConnectFailure = onRefusedStream = onReset = false;
            perTryTimeoutMillis = backoffBaseMillis = backoffMaxMillis = 0;
            replayLimit = 0;
            return;
        }
        attempts = config.attempts();
        onConnectFailure = config.on().contains("connect-failure");
        onRefusedStream = config.on().contains("refused-stream");
        onReset = config.on().contains("reset");
        for (String s : config.on()) {
            if (!s.isEmpty() && Character.isDigit(s.charAt(0))) {
                statuses.set(Integer.parseInt(s));
            } else {
                for (GrpcStatus g : GrpcStatus.values()) {
                    if (g.configName().equals(s)) {
                        grpcStatuses.set(g.code());
                    }
                }
            }
        }
        perTryTimeoutMillis = config.perTryTimeout() == null ? 0 : config.perTryTimeout().toMillis();
        backoffBaseMillis = config.backoffBase().toMillis();
        backoffMaxMillis = config.backoffMax().toMillis();
        replayLimit = config.replayLimit();
    }

    /** Total tries, the first included. */
    public int attempts() {
        return attempts;
    }

    public boolean retriesOn(Condition c) {
        return switch (c) {
            case CONNECT_FAILURE -> onConnectFailure;
            case REFUSED_STREAM -> onRefusedStream;
            case RESET -> onReset;
        };
    }

    /** Whether a trailers-only gRPC response with this {@code grpc-status} may be retried. */
    public boolean retriesOnGrpcStatus(GrpcStatus status) {
        return status != null && grpcStatuses.get(status.code());
    }

    public boolean retriesOnStatus(int status) {
        return status >= 0 && status < 600 && statuses.get(status);
    }

    /** Bound on each try, until its response head; 0: none. */
    public long perTryTimeoutMillis() {
        return perTryTimeoutMillis;
    }

    public long replayLimit() {
        return replayLimit;
    }

    /**
     * Delay before retry number {@code retry} (1 for the first retry): "full jitter", uniformly random up
     * to base x 2^(retry-1), capped at max, so that clients failing together do not retry together.
     */
    public long backoffMillis(int retry) {
        long ceiling = Math.min(backoffMaxMillis, backoffBaseMillis << Math.min(20, retry - 1));
        return ceiling <= 0 ? 0 : ThreadLocalRandom.current().nextLong(ceiling + 1);
    }
}
