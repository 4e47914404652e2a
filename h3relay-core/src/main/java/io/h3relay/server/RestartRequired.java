package io.h3relay.server;

import io.h3relay.config.LimitsConfig;
import io.h3relay.config.ListenerConfig;
import io.h3relay.config.Protocol;
import io.h3relay.config.RelayConfig;

import java.time.Duration;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a running server cannot take from a new config, because it was built into something that lives as
 * long as the process or a connection, not into the runtime snapshot:
 * <ul>
 *   <li>a listener's {@code http3} block: QUIC codecs (transport parameters, congestion control, Retry,
 *       sockets, GSO) are built at bind; and a change of address, protocols or TLS-or-not that keeps the same
 *       fixed address (such a change replaces the listener, see {@link ListenerChanges}, and the running socket
 *       holds the port). Listeners added and removed are not here ({@link ListenerChanges}), nor is the
 *       {@code tls} block (certificates, SNI, versions, client auth): a reload reads it again and swaps the
 *       contexts for new handshakes ({@link ListenerTls});</li>
 *   <li>listener {@code limits} other than {@code max_request_body_size}: the h1/h2 codecs, the h1 timeouts,
 *       the h2/h3 stream limits and the connection cap are set per connection or at bind;</li>
 *   <li>a listener's {@code proxy_protocol}: the PROXY header reader is part of each connection's pipeline;</li>
 *   <li>{@code admin}: its socket; {@code shutdown}: captured by the listeners at bind (drain timeout, Retry-After);</li>
 *   <li>{@code observability}: the metrics registry, the trace exporter, the access log writer and the process
 *       log are opened once, and the observers are composed per listener from them.</li>
 * </ul>
 * Everything else (routes, each listener's route list, clusters, {@code max_request_body_size}) is in the
 * runtime snapshot.
 */
final class RestartRequired {
    private RestartRequired() {
    }

    /**
     * One line per setting that differs and needs a restart, as {@code path: old -> new} (or {@code path: changed}
     * for a block); empty when none.
     */
    static List<String> changes(RelayConfig running, RelayConfig next) {
        List<String> out = new ArrayList<>();
        differs(out, "admin.address", running.admin().address(), next.admin().address());
        differs(out, "admin.watch_config", running.admin().watchConfig(), next.admin().watchConfig());
        differs(out, "admin.tls", running.admin().tls(), next.admin().tls());
        differs(out, "shutdown.drain_delay", millis(running.shutdown().drainDelay()),
                millis(next.shutdown().drainDelay()));
        differs(out, "shutdown.drain_timeout", millis(running.shutdown().drainTimeout()),
                millis(next.shutdown().drainTimeout()));
        differs(out, "shutdown.retry_after", millis(running.shutdown().retryAfter()),
                millis(next.shutdown().retryAfter()));
        changed(out, "observability.metrics", running.observability().metrics(), next.observability().metrics());
        changed(out, "observability.tracing", running.observability().tracing(), next.observability().tracing());
        changed(out, "observability.access_log", running.observability().accessLog(),
                next.observability().accessLog());
        changed(out, "observability.logging", running.observability().logging(), next.observability().logging());
        Map<String, ListenerConfig> before = byName(running.listeners());
        Map<String, ListenerConfig> after = byName(next.listeners());
        out.addAll(ListenerChanges.sameAddressReplacements(running, next));
        for (ListenerConfig l : after.values()) {
            ListenerConfig old = before.get(l.name());
            if (old == null || ListenerChanges.replaced(old, l)) {
                continue; // added, or replaced (removed and added): built anew from the new config
            }
            String path = "listeners[" + l.name() + "].";
            changed(out, path + "http3", old.http3(), l.http3());
            differs(out, path + "proxy_protocol", old.proxyProtocol(), l.proxyProtocol());
            changed(out, path + "limits (all but max_request_body_size)", connectionLevel(old.limits()),
                    connectionLevel(l.limits()));
        }
        return out;
    }

    /** The limits with the one that only the exchange reads (from its runtime) left out. */
    private static LimitsConfig connectionLevel(LimitsConfig l) {
        return new LimitsConfig(0, l.maxRequestLineSize(), l.maxRequestHeadersSize(), l.keepAliveTimeout(),
                l.requestHeadersTimeout(), l.maxConcurrentStreams(), l.maxConnections(), null, null, null,
                l.maxConnectionsPerClient(), null);
    }

    /** Config names in a fixed order: {@code [http1, h2c]}. */
    private static String names(Set<Protocol> protocols) {
        return new TreeSet<>(protocols).stream().map(Protocol::configName).toList().toString();
    }

    private static String millis(Duration d) {
        return d.toMillis() + "ms";
    }

    private static Map<String, ListenerConfig> byName(List<ListenerConfig> listeners) {
        Map<String, ListenerConfig> m = new LinkedHashMap<>();
        listeners.forEach(l -> m.put(l.name(), l));
        return m;
    }

    /** For blocks: names the path only (a TLS block holds passwords, a tracing endpoint may hold a token). */
    private static void changed(List<String> out, String path, Object before, Object after) {
        if (!Objects.equals(before, after)) {
            out.add(path + ": changed");
        }
    }

    private static void differs(List<String> out, String path, Object before, Object after) {
        if (!Objects.equals(before, after)) {
            out.add(path + ": " + before + " -> " + after);
        }
    }
}
