package io.h3relay.server;

import io.h3relay.admin.AdminEndpoint;
import io.h3relay.admin.AdminRoute;
import io.h3relay.admin.AdminServer;
import io.h3relay.exchange.LocalResponses;
import io.h3relay.listener.h3.Http3Listener;
import io.h3relay.listener.h3.QuicConnectionInfo;
import io.h3relay.quic.QlogSampler;
import io.netty.channel.Channel;
import io.netty.handler.codec.quic.QuicChannel;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The admin API's QUIC routes (docs/operations.md "HTTP/3 operations"):
 * <pre>
 *   GET  /quic/connections[?limit=N][&amp;listener=L]   the N busiest open QUIC connections (bytes both ways)
 *   GET  /quic/qlog                                  qlog state per listener
 *   POST /quic/qlog?enabled=true|false[&amp;sample=F][&amp;listener=L]   qlog on or off at runtime (needs http3.qlog_dir)
 *   POST /quic/ticket-keys/rotate[?listener=L]       a new session ticket key now (generated keys only)
 * </pre>
 */
final class QuicAdminApi {
    static final int DEFAULT_LIMIT = 20;
    static final int MAX_LIMIT = 1000;

    private final RelayServer server;

    QuicAdminApi(RelayServer server) {
        this.server = server;
    }

    void register(AdminServer admin) {
        admin.route("GET", "/quic/connections", this::connections);
        admin.route("GET", "/quic/qlog", r -> AdminRoute.json(200, qlogState(listeners(null))));
        admin.route("POST", "/quic/qlog", this::setQlog);
        admin.route("POST", "/quic/ticket-keys/rotate", this::rotate);
    }

    private List<Map.Entry<String, Http3Listener>> listeners(String name) {
        List<Map.Entry<String, Http3Listener>> out = new ArrayList<>();
        for (Map.Entry<String, Http3Listener> e : new java.util.TreeMap<>(server.http3Listeners()).entrySet()) {
            if (name == null || name.equals(e.getKey())) {
                out.add(e);
            }
        }
        return out;
    }

    private AdminEndpoint.Response connections(AdminRoute.Request r) throws Exception {
        int limit = DEFAULT_LIMIT;
        String l = r.query("limit");
        if (l != null) {
            try {
                limit = Integer.parseInt(l);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > MAX_LIMIT) {
                return AdminRoute.error(400, "bad_request", "limit: expected 1 to " + MAX_LIMIT + ", got " + l, "");
            }
        }
        String only = r.query("listener");
        if (only != null && !server.http3Listeners().containsKey(only)) {
            return AdminRoute.error(404, "not_found", "no listener " + only + " with HTTP/3 on", "");
        }
        List<CompletableFuture<QuicConnectionInfo>> pending = new ArrayList<>();
        for (Map.Entry<String, Http3Listener> e : listeners(only)) {
            for (Channel ch : e.getValue().connections()) {
                pending.add(QuicConnectionInfo.read(e.getKey(), (QuicChannel) ch));
            }
        }
        List<QuicConnectionInfo> infos = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        for (CompletableFuture<QuicConnectionInfo> f : pending) {
            try {
                QuicConnectionInfo i = f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (i != null) {
                    infos.add(i);
                }
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                // a busy loop or a connection closing: left out of this answer
            }
        }
        infos.sort(Comparator.comparingLong(QuicConnectionInfo::bytes).reversed());
        StringBuilder b = new StringBuilder("{\"open\":").append(infos.size()).append(",\"connections\":[");
        for (int i = 0; i < Math.min(limit, infos.size()); i++) {
            QuicConnectionInfo c = infos.get(i);
            b.append(i == 0 ? "" : ",").append("{\"listener\":").append(q(c.listener()))
                    .append(",\"peer\":").append(q(c.peer()))
                    .append(",\"connection_id\":").append(q(c.connectionId()))
                    .append(",\"rtt_ms\":").append(String.format(Locale.ROOT, "%.3f", c.rttMillis()))
                    .append(",\"congestion_window\":").append(c.congestionWindow())
                    .append(",\"bytes_sent\":").append(c.bytesSent())
                    .append(",\"bytes_received\":").append(c.bytesReceived())
                    .append(",\"bytes_lost\":").append(c.bytesLost())
                    .append(",\"packets_sent\":").append(c.packetsSent())
                    .append(",\"packets_received\":").append(c.packetsReceived())
                    .append(",\"packets_lost\":").append(c.packetsLost())
                    .append(",\"paths\":").append(c.paths())
                    .append(",\"open_streams\":").append(c.openStreams())
                    .append(",\"age_seconds\":").append(String.format(Locale.ROOT, "%.3f", c.ageSeconds()))
                    .append(",\"resumed\":").append(c.resumed())
                    .append(",\"early_data_requests\":").append(c.earlyDataRequests()).append('}');
        }
        return AdminRoute.json(200, b.append("]}\n").toString());
    }

    private static String qlogState(List<Map.Entry<String, Http3Listener>> listeners) {
        StringBuilder b = new StringBuilder("{\"listeners\":[");
        boolean first = true;
        for (Map.Entry<String, Http3Listener> e : listeners) {
            QlogSampler q = e.getValue().qlog();
            b.append(first ? "" : ",").append("{\"listener\":").append(q(e.getKey()))
                    .append(",\"available\":").append(q.available())
                    .append(",\"enabled\":").append(q.enabled())
                    .append(",\"sample\":").append(q.sample())
                    .append(",\"dir\":").append(q.dir() == null ? "null" : q(q.dir().toString()))
                    .append(",\"max_size\":").append(q.maxBytes())
                    .append(",\"files_started\":").append(q.started()).append('}');
            first = false;
        }
        return b.append("]}\n").toString();
    }

    private AdminEndpoint.Response setQlog(AdminRoute.Request r) {
        String enabled = r.query("enabled");
        if (!"true".equals(enabled) && !"false".equals(enabled)) {
            return AdminRoute.error(400, "bad_request", "enabled: expected true or false", "");
        }
        Double sample = null;
        if (r.query("sample") != null) {
            try {
                sample = Double.parseDouble(r.query("sample"));
            } catch (NumberFormatException e) {
                sample = -1.0;
            }
            if (!(sample >= 0 && sample <= 1)) {
                return AdminRoute.error(400, "bad_request", "sample: expected a fraction from 0 to 1", "");
            }
        }
        String only = r.query("listener");
        List<Map.Entry<String, Http3Listener>> targets = listeners(only).stream()
                .filter(e -> e.getValue().qlog().available()).toList();
        if (targets.isEmpty()) {
            return AdminRoute.error(409, "conflict", (only == null ? "no listener" : "listener " + only + " has no")
                    + " http3.qlog_dir: qlog can only be turned on where the config names a folder for it", "");
        }
        for (Map.Entry<String, Http3Listener> e : targets) {
            QlogSampler q = e.getValue().qlog();
            q.set(Boolean.parseBoolean(enabled), sample != null ? sample : q.sample());
        }
        return AdminRoute.json(200, qlogState(targets));
    }

    private AdminEndpoint.Response rotate(AdminRoute.Request r) {
        List<Map.Entry<String, Http3Listener>> targets = listeners(r.query("listener"));
        if (targets.isEmpty()) {
            return AdminRoute.error(404, "not_found", "no listener with HTTP/3 on", "");
        }
        StringBuilder b = new StringBuilder("{\"rotated\":[");
        boolean first = true;
        for (Map.Entry<String, Http3Listener> e : targets) {
            if (e.getValue().context().config().http3().ticketKeyFile() != null) {
                continue; // the file's keys are whoever writes the file's to rotate
            }
            e.getValue().ticketKeys().rotate();
            b.append(first ? "" : ",").append(q(e.getKey()));
            first = false;
        }
        return AdminRoute.json(200, b.append("]}\n").toString());
    }

    private static String q(String s) {
        return '"' + LocalResponses.jsonEscape(s) + '"';
    }
}
