package io.h3relay.config;

import io.h3relay.config.Http3Config.CongestionControl;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** One entry of {@code listeners:} with its tls, http3 and limits blocks. */
final class ListenerParser {
    private static final Map<String, CongestionControl> CONGESTION = new LinkedHashMap<>();
    private static final String PROTOCOL_NAMES = "http1, http2, h2c, http3";

    static {
        CONGESTION.put("reno", CongestionControl.RENO);
        CONGESTION.put("cubic", CongestionControl.CUBIC);
        CONGESTION.put("bbr", CongestionControl.BBR);
    }

    private ListenerParser() {}

    /**
     * @param allRoutes route names in declared order: what a listener without {@code routes:} uses
     */
    static ListenerConfig parse(YamlMap m, List<String> allRoutes) {
        String name = m.name("listener");
        HostPort address = null;
        if (!m.has("address")) {
            m.missing("address", Addresses.EXPECTED);
        } else {
            address = m.address("address", 0);
        }
        YamlMap tlsMap = m.map("tls");
        TlsServerConfig tls = tlsMap == null ? null : TlsParser.server(tlsMap);
        boolean tlsWritten = m.has("tls");
        Set<Protocol> protocols = protocols(m, tlsWritten);
        YamlMap h3 = m.map("http3");
        Http3Config http3 = h3 == null ? Http3Config.defaults() : http3(h3);
        if (m.has("http3") && !protocols.contains(Protocol.HTTP3)) {
            m.ctx().error(m.path("http3"), "a mapping", "http3 in protocols, or no http3 block",
                    m.lineOf("http3"));
        }
        YamlMap limitsMap = m.map("limits");
        LimitsConfig limits = limitsMap == null ? LimitsConfig.defaults() : limits(limitsMap);
        List<String> routes = new ArrayList<>();
        if (m.has("routes")) {
            m.scalars("routes", "a route name").forEach(s -> routes.add(s.text()));
        } else {
            routes.addAll(allRoutes);
        }
        YamlMap policiesMap = m.map("policies");
        PoliciesConfig policies = policiesMap == null ? PoliciesConfig.NONE : PoliciesParser.parse(policiesMap, false);
        boolean proxyProtocol = m.bool("proxy_protocol", false);
        List<Cidr> trustedProxies = IpRulesParser.cidrs(m, "trusted_proxies");
        m.finish();
        return new ListenerConfig(name, address, protocols, tls, http3, limits, routes, policies, proxyProtocol,
                trustedProxies);
    }

    /**
     * Defaults: everything the transport can serve, so TLS gets http1, http2 and http3, plaintext gets http1
     * (h2c is opt-in: prior-knowledge detection on a public plaintext port surprises people).
     */
    private static Set<Protocol> protocols(YamlMap m, boolean tls) {
        if (!m.has("protocols")) {
            return tls ? EnumSet.of(Protocol.HTTP1, Protocol.HTTP2, Protocol.HTTP3) : EnumSet.of(Protocol.HTTP1);
        }
        Set<Protocol> out = EnumSet.noneOf(Protocol.class);
        List<Scalar> written = m.scalars("protocols", "one of " + PROTOCOL_NAMES);
        for (Scalar s : written) {
            Protocol p = Protocol.fromConfigName(s.text());
            if (p == null) {
                m.ctx().invalid(s, "one of " + PROTOCOL_NAMES);
            } else if (!out.add(p)) {
                m.ctx().invalid(s, "each protocol once");
            } else if (p == Protocol.HTTP3 && !tls) {
                m.ctx().invalid(s, "a tls block on this listener: HTTP/3 always uses TLS");
            } else if (p == Protocol.HTTP2 && !tls) {
                m.ctx().invalid(s, "h2c for HTTP/2 without TLS, or a tls block");
            } else if (p == Protocol.H2C && tls) {
                m.ctx().invalid(s, "http2 on a TLS listener: h2c is HTTP/2 without TLS");
            }
        }
        if (m.isEmptyList("protocols")) {
            m.ctx().error(m.path("protocols"), "[]", "at least one of " + PROTOCOL_NAMES, m.lineOf("protocols"));
        }
        return out;
    }

    private static Http3Config http3(YamlMap m) {
        Http3Config d = Http3Config.defaults();
        boolean altSvc = m.bool("alt_svc", d.altSvc());
        var maxAge = m.duration("alt_svc_max_age", d.altSvcMaxAge());
        Integer advertisedPort = m.integer("advertised_port", 1, 65535);
        var idle = m.positiveDuration("idle_timeout", d.idleTimeout());
        // Off, or often enough to matter and not so often that PINGs become the traffic.
        var keepAlive = m.value("keep_alive_interval", "0 (off) or a duration of at least 10ms such as 15s", t -> {
            java.time.Duration v = Durations.parse(t);
            return v.isZero() || v.toMillis() >= 10 ? v : null;
        });
        int bidi = m.integer("max_bidirectional_streams", 1, Integer.MAX_VALUE, d.maxBidirectionalStreams());
        // A peer needs three unidirectional streams of its own: control, QPACK encoder and decoder.
        int uni = m.integer("max_unidirectional_streams", 3, Integer.MAX_VALUE, d.maxUnidirectionalStreams());
        long maxData = m.size("initial_max_data", 1, Long.MAX_VALUE, d.initialMaxData());
        long streamData = m.size("initial_max_stream_data", 1, Long.MAX_VALUE, d.initialMaxStreamData());
        CongestionControl cc = m.oneOf("congestion_control", CONGESTION, d.congestionControl());
        boolean retry = m.bool("retry", d.retry());
        boolean zeroRtt = m.bool("zero_rtt", d.zeroRtt());
        Integer sockets = m.value("sockets", "auto or an integer 1-1024",
                t -> t.equals("auto") ? Integer.valueOf(0) : intOrNull(Yaml.parseLong(t, 1, 1024)));
        boolean gso = m.bool("gso", d.gso());
        boolean activeMigration = m.bool("active_migration", d.activeMigration());
        Http3Config.ZeroRttUnsafe unsafe = m.oneOf("zero_rtt_unsafe", ZERO_RTT_UNSAFE, d.zeroRttUnsafe());
        java.nio.file.Path ticketKeys = keyFile(m, "ticket_key_file", true);
        var rotation = m.value("ticket_key_rotation", "a duration of at least 1m such as 12h", t -> {
            java.time.Duration v = Durations.parse(t);
            return v.toSeconds() >= 60 ? v : null;
        });
        java.nio.file.Path qlogDir = m.value("qlog_dir", "a folder path (created if missing)", t -> {
            java.nio.file.Path p = m.ctx().resolve(t);
            return t.isBlank() || (java.nio.file.Files.exists(p) && !java.nio.file.Files.isDirectory(p)) ? null : p;
        });
        Double sample = m.value("qlog_sample", "a fraction of connections from 0 to 1 such as 0.01", t -> {
            double v = Double.parseDouble(t);
            return v >= 0 && v <= 1 ? v : null;
        });
        long qlogMax = m.size("qlog_max_size", 1L << 20, Long.MAX_VALUE, d.qlogMaxSize());
        String serverId = m.value("server_id", "1 to 13 bytes in hex such as 0a1b (QUIC-LB plaintext server id)",
                t -> t.matches("(?i)([0-9a-f]{2}){1,13}") ? t.toLowerCase(java.util.Locale.ROOT) : null);
        java.nio.file.Path resetKey = keyFile(m, "stateless_reset_key_file", false);
        long qpackCapacity = m.size("qpack_max_table_capacity", 0, 1L << 30, d.qpackMaxTableCapacity());
        int qpackBlocked = m.integer("qpack_blocked_streams", 0, 65535, d.qpackBlockedStreams());
        m.finish();
        return new Http3Config(altSvc, maxAge, advertisedPort, idle, keepAlive == null ? d.keepAliveInterval()
                : keepAlive, bidi, uni, maxData, streamData, cc, retry, zeroRtt,
                sockets == null ? d.sockets() : sockets, gso, activeMigration, unsafe, ticketKeys,
                rotation == null ? d.ticketKeyRotation() : rotation, qlogDir, sample == null ? d.qlogSample() : sample,
                qlogMax, serverId, resetKey, qpackCapacity, qpackBlocked);
    }

    private static final Map<String, Http3Config.ZeroRttUnsafe> ZERO_RTT_UNSAFE = new LinkedHashMap<>();

    static {
        ZERO_RTT_UNSAFE.put("reject", Http3Config.ZeroRttUnsafe.REJECT);
        ZERO_RTT_UNSAFE.put("wait", Http3Config.ZeroRttUnsafe.WAIT);
    }

    /** A key file of the http3 block, read now so a bad one fails the load with its line. */
    private static java.nio.file.Path keyFile(YamlMap m, String key, boolean tickets) {
        Scalar s = m.scalar(key, "a key file path");
        if (s == null) {
            return null;
        }
        java.nio.file.Path p = m.ctx().resolve(s.text());
        try {
            if (tickets) {
                QuicKeyFiles.ticketKeys(p);
            } else {
                QuicKeyFiles.resetKey(p);
            }
        } catch (java.io.IOException e) {
            m.ctx().invalid(s, "a readable key file (" + (e instanceof java.nio.file.NoSuchFileException
                    ? "no such file" : e.getMessage()) + ")");
        }
        return p;
    }

    private static Integer intOrNull(Long v) {
        return v == null ? null : v.intValue();
    }

    private static LimitsConfig limits(YamlMap m) {
        LimitsConfig d = LimitsConfig.defaults();
        long body = m.size("max_request_body_size", 0, Long.MAX_VALUE, d.maxRequestBodySize());
        long line = m.size("max_request_line_size", 1, 1L << 30, d.maxRequestLineSize());
        long headers = m.size("max_request_headers_size", 1, 1L << 30, d.maxRequestHeadersSize());
        var keepAlive = m.duration("keep_alive_timeout", d.keepAliveTimeout());
        var headersTimeout = m.positiveDuration("request_headers_timeout", d.requestHeadersTimeout());
        int streams = m.integer("max_concurrent_streams", 1, Integer.MAX_VALUE, d.maxConcurrentStreams());
        int connections = m.integer("max_connections", 1, Integer.MAX_VALUE, d.maxConnections());
        int perClient = m.integer("max_connections_per_client", 0, Integer.MAX_VALUE, d.maxConnectionsPerClient());
        var wsIdle = m.positiveDuration("websocket_idle_timeout", d.websocketIdleTimeout());
        var wsMax = m.duration("max_websocket_duration", d.maxWebsocketDuration());
        var streamIdle = m.positiveDuration("stream_idle_timeout", d.streamIdleTimeout());
        var sendTimeout = m.positiveDuration("send_timeout", d.sendTimeout());
        m.finish();
        return new LimitsConfig(body, (int) line, (int) headers, keepAlive, headersTimeout, streams, connections,
                wsIdle, wsMax, streamIdle, perClient, sendTimeout);
    }
}
