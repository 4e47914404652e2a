package io.h3relay.listener;

import io.h3relay.config.LimitsConfig;
import io.h3relay.config.ListenerConfig;
import io.h3relay.exchange.ExchangeStarter;
import io.h3relay.exchange.ListenerState;
import io.h3relay.proxy.ProxyExchanges;
import io.h3relay.runtime.ListenerRuntime;
import io.h3relay.runtime.RuntimeHolder;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every connection of one listener shares: its config (what is fixed while the process runs: address,
 * protocols, TLS, connection-level limits), its part of the current runtime (read from the server's one
 * {@link RuntimeHolder}: swapped whole when a config is applied; an exchange keeps the part it started with),
 * the exchange starter its sessions use, and its live connections (for limits and drain).
 */
public final class ListenerContext implements ListenerState {
    private final ListenerConfig config;
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicInteger connectionCount = new AtomicInteger();
    private final RuntimeHolder runtime;
    private volatile boolean draining;
    private volatile boolean notReady;
    private volatile String altSvc;
    private final ConnectionObserver connectionObserver;
    private final ExchangeStarter exchanges = new ProxyExchanges(this::runtime);
    /** max_connections_per_client; null: no limit. */
    private final ClientConnectionCounts perClient;

    /**
     * Set for a listener a reload adds, until its runtime is swapped in, and for one it removes or replaces, from
     * just before the swap: the runtime part its connections go on with (the current runtime has none of this
     * listener, or a new listener's of the same name).
     */
    private volatile ListenerRuntime pinned;

    public ListenerContext(ListenerConfig config, RuntimeHolder runtime, ConnectionObserver connectionObserver) {
        this.config = config;
        this.runtime = runtime;
        runtime.listener(config.name()); // fails now rather than at the first request
        this.connectionObserver = connectionObserver;
        this.perClient = ClientConnectionCounts.of(config.limits().maxConnectionsPerClient());
    }

    /** For a listener a reload adds: {@code next} is its part of the runtime about to be swapped in. */
    public ListenerContext(ListenerConfig config, RuntimeHolder runtime, ConnectionObserver connectionObserver,
                           ListenerRuntime next) {
        this.config = config;
        this.runtime = runtime;
        this.connectionObserver = connectionObserver;
        this.perClient = ClientConnectionCounts.of(config.limits().maxConnectionsPerClient());
        this.pinned = java.util.Objects.requireNonNull(next);
    }

    /** Exchanges use {@code last} from now on, whatever the current runtime (null: the current one again). */
    public void pin(ListenerRuntime last) {
        this.pinned = last;
    }

    /** Makes each request's exchange; sessions call it. */
    public ExchangeStarter exchanges() {
        return exchanges;
    }

    /** This listener's part of the current runtime (one volatile read and a map lookup). */
    public ListenerRuntime runtime() {
        ListenerRuntime p = pinned;
        return p != null ? p : runtime.listener(config.name());
    }

    public ConnectionObserver connectionObserver() {
        return connectionObserver;
    }

    public String name() {
        return config.name();
    }

    public ListenerConfig config() {
        return config;
    }

    /**
     * The listener's limits as the process started with them: connection-level ones (codec sizes, timeouts,
     * streams, connections) are fixed at bind; the exchange checks requests against its runtime's.
     */
    public LimitsConfig limits() {
        return config.limits();
    }

    public boolean isTls() {
        return config.isTls();
    }


    public ChannelGroup connections() {
        return connections;
    }

    /** Counts a new connection; false when max_connections is reached (the caller closes it). */
    public boolean tryAcceptConnection() {
        int max = config.limits().maxConnections();
        for (;;) {
            int n = connectionCount.get();
            if (max > 0 && n >= max) {
                return false;
            }
            if (connectionCount.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    public void connectionClosed() {
        connectionCount.decrementAndGet();
    }

    /**
     * Counts a new connection from {@code client} against max_connections and max_connections_per_client;
     * false when either is reached (nothing is counted then; the caller closes the connection). On true, the
     * caller calls {@link #connectionClosed(InetAddress)} once with the same address when it closes.
     */
    public boolean tryAcceptConnection(InetAddress client) {
        if (!tryAcceptConnection()) {
            return false;
        }
        if (perClient != null && client != null && !perClient.tryAcquire(client)) {
            connectionClosed();
            return false;
        }
        return true;
    }

    public void connectionClosed(InetAddress client) {
        if (perClient != null && client != null) {
            perClient.release(client);
        }
        connectionClosed();
    }

    /** Connections open now from {@code client} (0 without a per-client limit). */
    public int connectionCount(InetAddress client) {
        return perClient == null ? 0 : perClient.count(client);
    }

    public int connectionCount() {
        return connectionCount.get();
    }

    /** The Alt-Svc value advertising h3 on this listener's h1/h2 responses, or null. */
    @Override
    public String altSvc() {
        return altSvc;
    }

    public void altSvc(String value) {
        this.altSvc = value;
    }

    @Override
    public boolean isDraining() {
        return draining;
    }

    @Override
    public boolean isReady() {
        return !notReady && !draining;
    }

    /** A drain was asked for: builtin readyz answers 503 from now on (shutdown.drain_delay included). */
    public void notReady() {
        this.notReady = true;
    }

    public void startDraining() {
        this.draining = true;
    }
}
