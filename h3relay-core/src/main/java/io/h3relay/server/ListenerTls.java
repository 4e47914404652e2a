package io.h3relay.server;

import io.h3relay.config.ListenerConfig;
import io.h3relay.config.Protocol;
import io.h3relay.config.RelayConfig;
import io.h3relay.config.TlsServerConfig;
import io.h3relay.listener.TcpListener;
import io.h3relay.listener.h3.Http3Listener;
import io.h3relay.tls.ServerTls;
import io.h3relay.tls.TlsConfigException;
import io.netty.handler.codec.quic.QuicSslContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The certificates of the running TLS listeners across reloads. A reload always reads every TLS listener's
 * files again (whether or not its {@code tls} block changed: rotating a certificate usually means new contents
 * under the same paths, and reading a few PEM files costs milliseconds), builds new TCP and QUIC contexts, and
 * only when all of them built swaps them in; new handshakes then present the new certificate, connections
 * already open keep the session they negotiated. A file that cannot be read or is rejected by the TLS engine
 * rejects the whole reload, with nothing changed.
 */
final class ListenerTls {
    /** The {@code tls} block each listener serves now, for HTTP/3 turned on again at runtime. */
    private final Map<String, TlsServerConfig> current = new ConcurrentHashMap<>();

    ListenerTls(RelayConfig start) {
        for (ListenerConfig lc : start.listeners()) {
            if (lc.isTls()) {
                current.put(lc.name(), lc.tls());
            }
        }
    }

    /** The TLS block listener {@code name} serves now ({@code fallback} when it has none recorded). */
    TlsServerConfig current(String name, TlsServerConfig fallback) {
        return current.getOrDefault(name, fallback);
    }

    /** A listener a reload added (or replaced) now serves {@code lc}'s TLS block, if any. */
    void added(ListenerConfig lc) {
        if (lc.isTls()) {
            current.put(lc.name(), lc.tls());
        } else {
            current.remove(lc.name());
        }
    }

    void removed(String name) {
        current.remove(name);
    }

    /** Contexts built for a reload, not yet in use. */
    final class Prepared {
        private final List<Runnable> swaps = new ArrayList<>();
        private final Map<String, TlsServerConfig> blocks = new ConcurrentHashMap<>();

        /** Swaps the new contexts in; cannot fail. */
        void commit() {
            swaps.forEach(Runnable::run);
            current.putAll(blocks);
        }
    }

    /**
     * Builds the new contexts of every TLS listener of {@code next} that is running (in {@code tcp}); the HTTP/3
     * ones for listeners whose HTTP/3 is on now (in {@code h3}). Throws, with nothing changed, when one fails.
     */
    Prepared prepare(RelayConfig next, Map<String, TcpListener> tcp, Map<String, Http3Listener> h3)
            throws TlsConfigException {
        Prepared p = new Prepared();
        List<ListenerConfig> all = next.listeners();
        for (int i = 0; i < all.size(); i++) {
            ListenerConfig lc = all.get(i);
            TcpListener running = tcp.get(lc.name());
            if (!lc.isTls() || running == null || ListenerChanges.replaced(running.context().config(), lc)) {
                continue;
            }
            String path = "listeners[" + i + "]";
            ServerTls tls;
            tls = TcpListener.buildTls(lc, path + ".tls");
            p.swaps.add(() -> running.swapTls(tls));
            Http3Listener quic = h3.get(lc.name());
            if (quic != null && lc.protocols().contains(Protocol.HTTP3)) {
                io.h3relay.listener.h3.QuicServerTls quicTls = quic.newTls(lc.tls(), path);
                p.swaps.add(() -> quic.swapTls(quicTls));
            }
            p.blocks.put(lc.name(), lc.tls());
        }
        return p;
    }
}
