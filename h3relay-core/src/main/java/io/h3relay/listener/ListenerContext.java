package io.h3relay.listener;

import io.h3relay.config.LimitsConfig;
import io.h3relay.config.ListenerConfig;
import io.h3relay.exchange.ExchangeObserver;
import io.h3relay.route.RouteTable;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every connection of one listener shares: its config, its compiled routes (swapped whole on
 * reload; an exchange keeps the table it started with), and its live connections (for limits and drain).
 */
public final class ListenerContext {
    private final ListenerConfig config;
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicInteger connectionCount = new AtomicInteger();
    private volatile RouteTable routes;
    private volatile boolean draining;
    private volatile String altSvc;
    private final ExchangeObserver.Factory exchangeObservers;
    private final ConnectionObserver connectionObserver;

    public ListenerContext(ListenerConfig config, RouteTable routes) {
        this(config, routes, ExchangeObserver.Factory.none(), ConnectionObserver.NONE);
    }

    public ListenerContext(ListenerConfig config, RouteTable routes, ExchangeObserver.Factory exchangeObservers,
                           ConnectionObserver connectionObserver) {
        this.config = config;
        this.routes = routes;
        this.exchangeObservers = exchangeObservers;
        this.connectionObserver = connectionObserver;
    }

    /** Makes the observer (metrics, tracing, access log) of each exchange on this listener. */
    public ExchangeObserver.Factory exchangeObservers() {
        return exchangeObservers;
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

    public LimitsConfig limits() {
        return config.limits();
    }

    public boolean isTls() {
        return config.isTls();
    }

    public RouteTable routes() {
        return routes;
    }

    public void routes(RouteTable table) {
        this.routes = table;
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

    public int connectionCount() {
        return connectionCount.get();
    }

    /** The Alt-Svc value advertising h3 on this listener's h1/h2 responses, or null. */
    public String altSvc() {
        return altSvc;
    }

    public void altSvc(String value) {
        this.altSvc = value;
    }

    public boolean isDraining() {
        return draining;
    }

    public void startDraining() {
        this.draining = true;
    }
}
