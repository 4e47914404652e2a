package io.h3relay.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A named set of endpoints with one load balancer, pool, health and resilience policy.
 * {@code tls} null means plaintext to the endpoints; {@code hashOn} is set only for ring_hash / maglev;
 * {@code healthCheck}, {@code outlierDetection}, {@code circuitBreaker}, {@code retryBudget} are null when absent.
 */
public record ClusterConfig(
        String name,
        UpstreamProtocol protocol,
        LoadBalancerKind loadBalancer,
        HashOn hashOn,
        List<EndpointConfig> endpoints,
        Duration connectTimeout,
        Pool pool,
        UpstreamTls tls,
        HealthCheck healthCheck,
        OutlierDetection outlierDetection,
        CircuitBreaker circuitBreaker,
        RetryBudget retryBudget,
        ProtocolPolicy protocolPolicy) {

    public ClusterConfig {
        endpoints = List.copyOf(endpoints);
        if (protocolPolicy == null) {
            protocolPolicy = ProtocolPolicy.defaults(protocol);
        }
    }

    /** Without a protocol policy: the protocol's default ({@link ProtocolPolicy#defaults}). */
    public ClusterConfig(String name, UpstreamProtocol protocol, LoadBalancerKind loadBalancer, HashOn hashOn,
                         List<EndpointConfig> endpoints, Duration connectTimeout, Pool pool, UpstreamTls tls,
                         HealthCheck healthCheck, OutlierDetection outlierDetection, CircuitBreaker circuitBreaker,
                         RetryBudget retryBudget) {
        this(name, protocol, loadBalancer, hashOn, endpoints, connectTimeout, pool, tls, healthCheck, outlierDetection,
                circuitBreaker, retryBudget, null);
    }

    /**
     * {@code protocol_policy} and the {@code http3} block of a cluster. {@code orLower}: an {@code http3}
     * cluster falls back to HTTP/2, then HTTP/1.1 over TLS, when QUIC cannot be used ({@code exact}: never).
     * {@code raceDelay}: how long a QUIC connect may take before TCP is tried alongside it;
     * {@code brokenBackoff}: how long an endpoint whose QUIC failed is left on TCP (doubling with each
     * further failure, at most {@code brokenBackoffMax}).
     */
    public record ProtocolPolicy(boolean orLower, Duration raceDelay, Duration brokenBackoff,
                                 Duration brokenBackoffMax) {
        public static final Duration RACE_DELAY = Duration.ofMillis(300);
        public static final Duration BROKEN_BACKOFF = Duration.ofMinutes(5);
        public static final Duration BROKEN_BACKOFF_MAX = Duration.ofHours(1);

        /** or_lower for http3 and auto; exact for the others (they have nothing lower to fall back to). */
        public static ProtocolPolicy defaults(UpstreamProtocol protocol) {
            return new ProtocolPolicy(protocol == UpstreamProtocol.HTTP3 || protocol == UpstreamProtocol.AUTO,
                    RACE_DELAY, BROKEN_BACKOFF, BROKEN_BACKOFF_MAX);
        }
    }

    public enum UpstreamProtocol {
        HTTP1("http1"), HTTP2("http2"), H2C("h2c"), HTTP3("http3"), AUTO("auto");

        private final String configName;

        UpstreamProtocol(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }
    }

    public enum LoadBalancerKind {
        ROUND_ROBIN, WEIGHTED_ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH, MAGLEV;

        public String configName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** What ring_hash / maglev hash: a request header, a cookie, or the downstream source IP. */
    public record HashOn(Source source, String name) {
        public enum Source { HEADER, COOKIE, SOURCE_IP }
    }

    public record EndpointConfig(HostPort address, int weight) {}

    /**
     * Per endpoint. {@code maxRequestsPerConnection} 0 means unlimited. {@code maxConcurrentStreams}: streams
     * per h2/h3 connection at most (the endpoint's own limit applies too); 0 means the endpoint's limit only.
     */
    public record Pool(int maxConnections, Duration idleTimeout, long maxRequestsPerConnection,
                       int maxConcurrentStreams) {
        public Pool(int maxConnections, Duration idleTimeout, long maxRequestsPerConnection) {
            this(maxConnections, idleTimeout, maxRequestsPerConnection, 0);
        }

        public static Pool defaults() {
            return new Pool(1024, Duration.ofSeconds(60), 0, 0);
        }
    }

    /**
     * TLS to the endpoints. {@code ca} null means the JDK's trust store. {@code sni}: {@code tls.server_name}
     * (or its other name {@code tls.sni}), null for the endpoint's host.
     */
    public record UpstreamTls(boolean verify, Path ca, String sni, Path certificate, Path privateKey) {
        /**
         * The name every connection to {@code endpointHost} sends as SNI (unless an IP literal) and verifies the
         * endpoint's certificate against: {@code server_name} when set, else the endpoint's host.
         */
        public String serverName(String endpointHost) {
            return sni != null ? sni : endpointHost;
        }
    }

    /**
     * {@code grpcService} non-null: a gRPC check ({@code type: grpc}, grpc.health.v1 {@code Check} of that
     * service, "" for the server as a whole) instead of an HTTP GET of {@code path}.
     */
    public record HealthCheck(String path, Duration interval, Duration timeout, int healthyThreshold,
                              int unhealthyThreshold, List<StatusRange> expectedStatuses, String grpcService) {
        public HealthCheck {
            expectedStatuses = List.copyOf(expectedStatuses);
        }

        public HealthCheck(String path, Duration interval, Duration timeout, int healthyThreshold,
                           int unhealthyThreshold, List<StatusRange> expectedStatuses) {
            this(path, interval, timeout, healthyThreshold, unhealthyThreshold, expectedStatuses, null);
        }
    }

    /** An inclusive status range, from "200" or "200-299". */
    public record StatusRange(int from, int to) {
        public boolean contains(int status) {
            return status >= from && status <= to;
        }
    }

    public record OutlierDetection(int consecutive5xx, int consecutiveConnectFailures, Duration baseEjectionTime,
                                   int maxEjectionPercent) {}

    public record CircuitBreaker(int maxConnections, int maxPendingRequests, int maxRequests) {}

    public record RetryBudget(int percent, int minRetriesPerSecond) {}
}
