package io.h3relay.config;

import io.h3relay.config.ClusterConfig.EndpointConfig;
import io.h3relay.config.ClusterConfig.HashOn;
import io.h3relay.config.ClusterConfig.LoadBalancerKind;
import io.h3relay.config.ClusterConfig.Pool;
import io.h3relay.config.ClusterConfig.UpstreamProtocol;
import io.h3relay.config.ClusterConfig.UpstreamTls;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** One entry of {@code clusters:}: protocol, balancer, endpoints, pool, tls; policies in {@link ClusterPolicyParser}. */
final class ClusterParser {
    private static final Map<String, UpstreamProtocol> PROTOCOLS = new LinkedHashMap<>();
    private static final Map<String, LoadBalancerKind> BALANCERS = new LinkedHashMap<>();

    static {
        for (UpstreamProtocol p : UpstreamProtocol.values()) {
            PROTOCOLS.put(p.configName(), p);
        }
        for (LoadBalancerKind k : LoadBalancerKind.values()) {
            BALANCERS.put(k.configName(), k);
        }
    }

    private ClusterParser() {}

    static ClusterConfig parse(YamlMap m) {
        String name = m.name("cluster");
        UpstreamProtocol protocol = m.oneOf("protocol", PROTOCOLS, UpstreamProtocol.HTTP1);
        LoadBalancerKind balancer = m.oneOf("load_balancer", BALANCERS, LoadBalancerKind.ROUND_ROBIN);
        YamlMap hashMap = m.map("hash_on");
        HashOn hashOn = hashMap == null ? null : hashOn(hashMap);
        boolean hashing = balancer == LoadBalancerKind.RING_HASH || balancer == LoadBalancerKind.MAGLEV;
        if (hashing && !m.has("hash_on")) {
            m.missing("hash_on", "hash_on with one of header, cookie, source_ip for " + balancer.configName());
        } else if (!hashing && m.has("hash_on")) {
            m.notAllowed("hash_on", "no hash_on: only ring_hash and maglev hash");
        }
        List<EndpointConfig> endpoints = endpoints(m);
        Duration connectTimeout = m.positiveDuration("connect_timeout", Duration.ofSeconds(5));
        YamlMap poolMap = m.map("pool");
        Pool pool = poolMap == null ? Pool.defaults() : pool(poolMap);
        YamlMap tlsMap = m.map("tls");
        UpstreamTls tls = tlsMap == null ? null : TlsParser.upstream(tlsMap);
        checkProtocolTls(m, protocol, m.has("tls"));
        var health = ClusterPolicyParser.healthCheck(m);
        if (health != null && health.grpcService() != null && protocol != UpstreamProtocol.HTTP2
                && protocol != UpstreamProtocol.H2C && protocol != UpstreamProtocol.HTTP3) {
            m.notAllowed("health_check", "protocol http2, h2c or http3 for a gRPC health check (type: grpc)");
        }
        var outlier = ClusterPolicyParser.outlierDetection(m);
        var breaker = ClusterPolicyParser.circuitBreaker(m);
        var budget = ClusterPolicyParser.retryBudget(m);
        var protocolPolicy = ClusterProtocolParser.parse(m, protocol);
        m.finish();
        return new ClusterConfig(name, protocol, balancer, hashing ? hashOn : null, endpoints, connectTimeout, pool,
                tls, health, outlier, breaker, budget, protocolPolicy);
    }

    /** The same rule as listeners: h2 and h3 imply TLS, h2c excludes it. */
    private static void checkProtocolTls(YamlMap m, UpstreamProtocol protocol, boolean tls) {
        if (!m.has("protocol")) {
            return;
        }
        if (protocol == UpstreamProtocol.HTTP3 && !tls) {
            m.notAllowed("protocol", "a tls block on this cluster: HTTP/3 always uses TLS");
        } else if (protocol == UpstreamProtocol.AUTO && !tls) {
            m.notAllowed("protocol", "a tls block on this cluster: auto negotiates h2 or http/1.1 by TLS ALPN");
        } else if (protocol == UpstreamProtocol.HTTP2 && !tls) {
            m.notAllowed("protocol", "h2c for HTTP/2 without TLS, or a tls block");
        } else if (protocol == UpstreamProtocol.H2C && tls) {
            m.notAllowed("protocol", "http2 with a tls block: h2c is HTTP/2 without TLS");
        }
    }

    private static HashOn hashOn(YamlMap m) {
        String header = m.value("header", RouteParser.HEADER_EXPECTED, t -> t.isBlank() ? null : t.toLowerCase(Locale.ROOT));
        String cookie = m.value("cookie", "a cookie name", t -> t.isBlank() ? null : t);
        Boolean sourceIp = m.value("source_ip", "true", t -> t.equals("true") ? Boolean.TRUE : null);
        int count = (m.has("header") ? 1 : 0) + (m.has("cookie") ? 1 : 0) + (m.has("source_ip") ? 1 : 0);
        if (count != 1) {
            m.ctx().error(m.path(), count == 0 ? "{}" : "a mapping",
                    "exactly one of header: <name>, cookie: <name>, source_ip: true", m.line());
        }
        m.finish();
        if (header != null) {
            return new HashOn(HashOn.Source.HEADER, header);
        }
        if (cookie != null) {
            return new HashOn(HashOn.Source.COOKIE, cookie);
        }
        return sourceIp != null ? new HashOn(HashOn.Source.SOURCE_IP, null) : null;
    }

    private static List<EndpointConfig> endpoints(YamlMap m) {
        List<EndpointConfig> out = new ArrayList<>();
        Map<HostPort, Integer> seen = new HashMap<>();
        List<YamlMap> items = m.maps("endpoints");
        if (!m.has("endpoints")) {
            m.missing("endpoints", "at least one endpoint: - address: host:port");
        } else if (m.isEmptyList("endpoints")) {
            m.notAllowed("endpoints", "at least one endpoint: - address: host:port");
        }
        for (YamlMap e : items) {
            HostPort address = null;
            if (!e.has("address")) {
                e.missing("address", Addresses.expected(1));
            } else {
                address = e.address("address", 1);
            }
            int weight = e.integer("weight", 1, 10_000, 1);
            e.finish();
            if (address != null && seen.containsKey(address)) {
                e.notAllowed("address", "an address not already in this cluster, first at line " + seen.get(address));
            } else if (address != null) {
                seen.put(address, e.lineOf("address"));
                out.add(new EndpointConfig(address, weight));
            }
        }
        return out;
    }

    private static Pool pool(YamlMap m) {
        Pool d = Pool.defaults();
        int max = m.integer("max_connections", 1, Integer.MAX_VALUE, d.maxConnections());
        Duration idle = m.duration("idle_timeout", d.idleTimeout());
        Long perConnection = m.longValue("max_requests_per_connection", 0, Long.MAX_VALUE);
        int streams = m.integer("max_concurrent_streams", 0, Integer.MAX_VALUE, d.maxConcurrentStreams());
        m.finish();
        return new Pool(max, idle, perConnection == null ? d.maxRequestsPerConnection() : perConnection, streams);
    }
}
