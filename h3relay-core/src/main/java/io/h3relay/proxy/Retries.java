package io.h3relay.proxy;

import io.h3relay.exchange.ProxyError;
import io.h3relay.exchange.ErrorCode;
import io.h3relay.cluster.Cluster;
import io.h3relay.route.RetryPolicy;
import io.h3relay.route.RetryPolicy.Condition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The retry decisions of one exchange: whether a failed attempt (or a response status) may be tried again,
 * following the route's {@link RetryPolicy} and the cluster's retry budget.
 *
 * <p>A request may go again only while nothing of the response went downstream, tries are left, and what
 * the endpoint may already have seen can be sent again: nothing went upstream yet (a connect failure), or
 * the whole request arrived and its body fits the replay limit. A retry of a non-idempotent request (a POST)
 * therefore needs its body complete and within the limit; idempotent bodiless requests always qualify.
 */
final class Retries {
    private static final Logger LOG = LoggerFactory.getLogger(Retries.class);
    /** Extra tries when a reused keep-alive connection turns out closed before any response byte. */
    private static final int MAX_STALE_RETRIES = 2;

    private final RetryPolicy policy;
    private final Cluster cluster;
    private final Forwarding forwarding;
    private int retries;
    private int staleRetries;

    Retries(RetryPolicy policy, Cluster cluster, Forwarding forwarding) {
        this.policy = policy;
        this.cluster = cluster;
        this.forwarding = forwarding;
    }

    /** The attempt that just started re-sends a refused request: it does not count as a try. */
    void staleResend() {
        staleRetries++;
    }

    /** Tries made: the forwarding's attempts, refused-request re-sends not included. */
    int tries() {
        return forwarding.attempts() - staleRetries;
    }

    /** The condition of the {@code on:} list an error falls under, or null when it is never retried. */
    static Condition conditionOf(ErrorCode code) {
        return switch (code) {
            case UPSTREAM_CONNECT_FAILED, UPSTREAM_TLS_FAILED -> Condition.CONNECT_FAILURE;
            case UPSTREAM_RESET, UPSTREAM_TIMEOUT -> Condition.RESET;
            default -> null;
        };
    }

    /**
     * The stream refused a bodiless request (e.g. a reused keep-alive connection closed as we sent it): the
     * endpoint processed nothing, so the request goes again, whatever the policy (like nginx and Envoy do).
     */
    boolean mayResendRefused() {
        return staleRetries < MAX_STALE_RETRIES;
    }

    /** Whether the failure may be retried per policy and budget; takes the budget when it may. */
    boolean mayRetry(ErrorCode code, boolean replayable, String why) {
        Condition c = conditionOf(code);
        return c != null && policy.retriesOn(c) && mayRetry(replayable, why);
    }

    /** A refused stream (not processed by the endpoint) may go again under the {@code refused-stream} rule. */
    boolean mayRetryRefused(boolean replayable, String why) {
        return policy.retriesOn(Condition.REFUSED_STREAM) && mayRetry(replayable, why);
    }

    /** Whether a trailers-only gRPC response with {@code status} may be retried instead of passed on. */
    boolean mayRetryGrpc(io.h3relay.grpc.GrpcStatus status, boolean replayable) {
        return policy.retriesOnGrpcStatus(status) && mayRetry(replayable, "grpc-status " + status);
    }

    /** Whether a response with {@code status} may be retried instead of passed on. */
    boolean mayRetryStatus(int status, boolean replayable) {
        return policy.retriesOnStatus(status) && mayRetry(replayable, "status " + status);
    }

    private boolean mayRetry(boolean replayable, String why) {
        if (tries() >= policy.attempts() || !replayable) {
            return false;
        }
        if (!cluster.retryBudget().tryStartRetry()) {
            LOG.debug("cluster {}: retry after {} refused by the retry budget", cluster.name(), why);
            return false;
        }
        retries++;
        return true;
    }

    /** Back-off before the retry just granted. */
    long backoffMillis() {
        return policy.backoffMillis(retries);
    }

    long perTryTimeoutMillis() {
        return policy.perTryTimeoutMillis();
    }

    long replayLimit() {
        return policy.replayLimit();
    }
}
