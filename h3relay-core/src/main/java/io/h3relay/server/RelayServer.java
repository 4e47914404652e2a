package io.h3relay.server;

import io.h3relay.transport.Transport;
import io.h3relay.admin.AdminServer;
import io.h3relay.cluster.Cluster;
import io.h3relay.cluster.ClusterManager;
import io.h3relay.config.Durations;
import io.h3relay.config.ListenerConfig;
import io.h3relay.config.RelayConfig;
import io.h3relay.exchange.ExchangeObserver;
import io.h3relay.listener.ListenerContext;
import io.h3relay.listener.TcpListener;
import io.h3relay.listener.h3.Http3Listener;
import io.h3relay.config.Http3Config;
import io.h3relay.config.Protocol;
import io.h3relay.tls.TlsConfigException;
import io.h3relay.exchange.DownstreamSession;
import io.h3relay.filter.FilterChain;
import io.h3relay.runtime.Runtime;
import io.h3relay.runtime.RuntimeHolder;
import io.h3relay.telemetry.Telemetry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The running proxy: builds the runtime snapshot (clusters, route tables) from a frozen config, binds the
 * listeners over it, may {@link #apply} a new config (a new snapshot swapped in atomically), and stops with
 * a drain. Lifecycle: {@link #start} → serving (→ apply ...) → {@link #stop} (drain) → stopped.
 */
public final class RelayServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RelayServer.class);

    private final RelayConfig startConfig;
    private final Transport transport;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    /** The HTTP/3 listeners' sockets' transport ({@link Transport#quic()}: epoll under io_uring) and loops. */
    private final Transport quicTransport;
    /** {@link #workers} itself, or under io_uring an epoll group of their own. */
    private final EventLoopGroup quicWorkers;
    private final ClusterManager clusters;
    private volatile RuntimeHolder runtime;
    /** Each listener's exchange observers, composed once from the telemetry (which a reload keeps). */
    private final Map<String, ExchangeObserver.Factory> observers = new LinkedHashMap<>();
    /** The listeners' filter chain (telemetry's filters, which a reload keeps). */
    private FilterChain filters;
    /** The policies' decision counters, across reloads. */
    private final io.h3relay.policy.PolicyMetrics policyMetrics = new io.h3relay.policy.PolicyMetrics();
    /** Concurrent: a reload adds and removes listeners while admin reads iterate it. */
    private final Map<String, TcpListener> listeners = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, Http3Listener> http3Listeners = new java.util.concurrent.ConcurrentHashMap<>();
    /** Listeners whose HTTP/3 was turned off and whose UDP sockets are not closed yet. */
    private final Map<String, java.util.concurrent.CompletableFuture<Void>> http3Closing =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final AdminServer admin;
    private volatile Telemetry telemetry;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean ready;
    private volatile boolean draining;
    private final java.util.concurrent.atomic.AtomicBoolean drainRequested = new java.util.concurrent.atomic.AtomicBoolean();
    /** Counted down when shutdown.drain_delay is cut short (a second signal) or a stop begins. */
    private final CountDownLatch drainDelayOver = new CountDownLatch(1);
    /** The activity log (admin {@code GET /events}). */
    private final io.h3relay.events.EventLog events = new io.h3relay.events.EventLog();
    private final ConfigReloads reloads;
    /** The listeners' certificates, read again by every reload. */
    private final ListenerTls listenerTls;
    /** Listeners removed by a reload, until their drain is over. */
    private final List<java.util.concurrent.CompletableFuture<Void>> retiringListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    private ConfigWatcher watcher;

    private RelayServer(RelayConfig config, Transport transport, java.nio.file.Path file) {
        this.startConfig = config;
        this.listenerTls = new ListenerTls(config);
        this.reloads = new ConfigReloads(this, file, events);
        this.transport = transport;
        this.boss = transport.newGroup(1, "h3relay-accept");
        int cores = java.lang.Runtime.getRuntime().availableProcessors();
        this.workers = transport.newGroup(cores, "h3relay-io");
        this.quicTransport = transport.quic();
        this.quicWorkers = quicTransport == transport ? workers : quicTransport.newGroup(cores, "h3relay-quic");
        // A retired cluster's exchanges may keep its pools for as long as a drain lets exchanges finish.
        this.clusters = new ClusterManager(transport, exchangeGroups(), config.shutdown().drainTimeout(), events);
        this.admin = new AdminServer(new AdminServer.Control() {
            @Override
            public boolean ready() {
                // drainRequested: not ready from the moment a drain is asked for, through shutdown.drain_delay.
                return ready && !drainRequested.get() && !draining;
            }

            @Override
            public boolean startDrain() {
                return RelayServer.this.startDrain("POST /drain on the admin listener");
            }

            @Override
            public java.util.Collection<Cluster> clusters() {
                return RelayServer.this.clusters().values();
            }

            @Override
            public String authToken() {
                return RelayServer.this.config().admin().authToken();
            }

            @Override
            public io.h3relay.events.EventLog events() {
                return events;
            }
        });
    }

    /**
     * Builds everything, then binds every listener, their HTTP/3 sockets and the admin listener, and only then
     * starts accepting on any of them; on any failure nothing stays bound and nothing was served.
     */
    public static RelayServer start(RelayConfig config) throws StartException {
        return start(config, null);
    }

    /**
     * As {@link #start(RelayConfig)}, for a config read from {@code file}: reloads (SIGHUP,
     * {@code POST /config/reload}, {@code admin.watch_config}) read that file again.
     */
    public static RelayServer start(RelayConfig config, java.nio.file.Path file) throws StartException {
        Transport transport;
        try {
            transport = Transport.detect();
        } catch (RuntimeException e) { // -Dh3relay.transport names one that is unknown or not available here
            throw new StartException(e.getMessage(), e);
        }
        return start(config, file, transport);
    }

    /** As {@link #start(RelayConfig, java.nio.file.Path)}, on the given transport instead of the detected one. */
    public static RelayServer start(RelayConfig config, java.nio.file.Path file, Transport transport)
            throws StartException {
        NotYetApplied.check(config);
        RelayServer server = new RelayServer(config, transport, file);
        try {
            server.buildRuntime();
            server.bindAll();
        } catch (Exception e) {
            server.stop(Duration.ZERO);
            throw e instanceof StartException se ? se : new StartException(describe(e), e);
        }
        return server;
    }

    /** Clusters, telemetry and the first runtime; health checks start here, before anything is bound. */
    private void buildRuntime() throws StartException {
        ClusterManager.Change change;
        try {
            change = clusters.prepare(startConfig.clusters());
        } catch (TlsConfigException e) {
            throw new StartException(e.getMessage(), e);
        }
        try {
            telemetry = Telemetry.create(startConfig.observability(), () -> clusters.clusters().values(),
                    endpoint -> endpoint.health().isAvailable());
        } catch (java.io.IOException e) {
            clusters.discard(change);
            throw new StartException("observability.access_log.path: cannot open " + startConfig.observability()
                    .accessLog().path() + ": " + describe(e), e);
        }
        for (ListenerConfig lc : startConfig.listeners()) {
            observers.put(lc.name(), telemetry.exchangeObservers(lc));
        }
        filters = FilterChain.of(telemetry.filters());
        telemetry.policyMetrics(policyMetrics);
        runtime = new RuntimeHolder(Runtime.build(1, startConfig, change.clusters(), observers::get, l -> filters, policyMetrics));
        clusters.commit(change);
        telemetry.clustersChanged(change.built(), List.of());
    }

    private void bindAll() throws Exception {
        List<TcpListener> created = new ArrayList<>();
        for (ListenerConfig lc : startConfig.listeners()) {
            try {
                created.add(TcpListener.create(new ListenerContext(lc, runtime,
                        telemetry.connectionObserver(lc))));
            } catch (TlsConfigException e) {
                throw new StartException("listener " + lc.name() + ": " + e.getMessage(), e);
            }
        }
        Duration drain = startConfig.shutdown().drainTimeout();
        long retryAfter = startConfig.shutdown().retryAfter().toSeconds();
        for (TcpListener l : created) {
            try {
                l.bind(transport, boss, workers, drain, retryAfter);
            } catch (Exception e) {
                throw new StartException("listener " + l.context().name() + ": cannot bind "
                        + l.context().config().address() + ": " + describe(e), e);
            }
            listeners.put(l.context().name(), l);
            bindHttp3(l, retryAfter, drain);
            LOG.info("listener {} on {} ({}{})", l.context().name(), l.localAddress(),
                    l.context().isTls() ? "tls, " : "", l.context().config().protocols());
        }
        telemetry.addAdminEndpoints(admin, () -> listeners.values().stream()
                .map(l -> l.context().connections()).toList());
        admin.endpoint("/introspect", new io.h3relay.server.IntrospectEndpoint(this,
                endpoint -> endpoint.health().isAvailable()));
        new AdminApi(this, reloads, events, exchangeGroups()).register(admin);
        new QuicAdminApi(this).register(admin);
        telemetry.cacheMetrics(() -> CacheAdminEndpoint.series(runtime.current().policies().caches()));
        admin.endpoint("/cache", new CacheAdminEndpoint(() -> runtime.current().policies().caches(), false));
        admin.endpoint("/cache/purge", new CacheAdminEndpoint(() -> runtime.current().policies().caches(), true));
        try {
            io.h3relay.tls.ServerTls adminTls = startConfig.admin().tls() == null ? null
                    : io.h3relay.tls.ServerTlsContexts.build(startConfig.admin().tls(), List.of("http/1.1"), "admin.tls");
            admin.bind(transport, boss, startConfig.admin().address().toSocketAddress(), adminTls);
        } catch (TlsConfigException e) {
            throw new StartException(e.getMessage(), e);
        } catch (Exception e) {
            throw new StartException("admin: cannot bind " + startConfig.admin().address() + ": " + describe(e), e);
        }
        // All or none: every socket is bound (a failure above closes the ones before it, in stop()); only now
        // does any of them accept connections or read datagrams.
        listeners.values().forEach(TcpListener::startAccepting);
        http3Listeners.values().forEach(Http3Listener::startReading);
        admin.startAccepting();
        LOG.info("admin on {} (transport {})", admin.localAddress(), transport.name());
        BreakerWatch breakers = new BreakerWatch(() -> List.copyOf(clusters.clusters().values()), events);
        workers.next().scheduleAtFixedRate(breakers, 1, 1, TimeUnit.SECONDS);
        if (startConfig.admin().watchConfig() && reloads.file() != null) {
            try {
                watcher = new ConfigWatcher(reloads.file(), reloads);
            } catch (java.io.IOException e) {
                LOG.warn("admin.watch_config: cannot watch {}: {}", reloads.file(), describe(e));
            }
        }
        ready = true;
    }

    /**
     * Builds the runtime of {@code next} and swaps it in atomically: exchanges that start from now on use its
     * routes and clusters, those in flight finish on the ones they started with. Clusters whose config is
     * unchanged are kept as they are (pools, health, outlier and breaker state); new and changed ones are
     * built and start their checks; replaced and removed ones stop their checks now and close their pools
     * once their exchanges in flight have ended ({@code shutdown.drain_timeout} at the latest).
     *
     * <p>Nothing changes when it throws: a config that changes what the running listeners, admin listener or
     * telemetry were built with is refused whole ({@link ApplyException#needsRestart()} lists those settings,
     * see {@link RestartRequired}); so is one whose runtime cannot be built, and any while the server stops.
     * {@code next} must come from {@code ConfigLoader} (validated).
     */
    public Applied apply(RelayConfig next) throws ApplyException {
        synchronized (this) {
            if (draining || drainRequested.get() || runtime == null) {
                throw ApplyException.failed("the server is " + (runtime == null ? "not started" : "stopping"), null);
            }
            Runtime before = runtime.current();
            List<String> restart = RestartRequired.changes(before.config(), next);
            if (!restart.isEmpty()) {
                throw ApplyException.needsRestart(restart);
            }
            try {
                NotYetApplied.check(next);
            } catch (StartException e) {
                throw ApplyException.failed(e.getMessage(), e);
            }
            ListenerChanges listenerChanges = ListenerChanges.plan(before.config(), next);
            for (ListenerConfig lc : listenerChanges.added()) {
                observers.putIfAbsent(lc.name(), telemetry.exchangeObservers(lc));
            }
            ListenerTls.Prepared certificates;
            try {
                certificates = listenerTls.prepare(next, listeners, http3Listeners);
            } catch (TlsConfigException e) {
                throw ApplyException.failed(e.getMessage(), e);
            }
            ClusterManager.Change change;
            try {
                change = clusters.prepare(next.clusters());
            } catch (TlsConfigException e) {
                throw ApplyException.failed(e.getMessage(), e);
            }
            Runtime after;
            try {
                after = Runtime.build(before.generation() + 1, next, change.clusters(), observers::get, l -> filters,
                        policyMetrics);
            } catch (RuntimeException e) {
                clusters.discard(change);
                throw ApplyException.failed(describe(e), e);
            }
            AddedListeners bound;
            try {
                bound = bindAdded(listenerChanges.added(), next, after);
            } catch (StartException e) {
                clusters.discard(change);
                after.policies().close(); // never served: its Redis connections and JWKS refreshers go now
                throw ApplyException.failed(e.getMessage(), e);
            }
            for (ListenerConfig lc : listenerChanges.removed()) {
                // Its open connections go on with its last routes; the new runtime has none for it (or a new
                // listener's of the same name).
                listeners.get(lc.name()).context().pin(before.listener(lc.name()));
            }
            runtime.swap(after);
            certificates.commit();
            swapListeners(listenerChanges, bound);
            // Exchanges in flight keep the old snapshot's policies (Redis, JWKS) until a drain would end them.
            workers.schedule(before.policies()::close, startConfig.shutdown().drainTimeout().toMillis() + 1000,
                    TimeUnit.MILLISECONDS);
            clusters.commit(change);
            telemetry.clustersChanged(change.built(), change.retired());
            Applied applied = describe(before, after, change);
            LOG.info("config applied (generation {}): clusters added {}, replaced {}, removed {}, kept {}; routes {}",
                    applied.generation(), applied.added(), applied.replaced(), applied.removed(), applied.kept(),
                    applied.routesChanged() ? "changed" : "unchanged");
            return applied;
        }
    }

    /** Listeners a reload adds, bound (not accepting yet), with their HTTP/3 sockets. */
    private record AddedListeners(List<TcpListener> tcp, Map<String, Http3Listener> h3) {}

    /**
     * Binds the listeners a reload adds, as {@link #bindAll} does at start, before the swap and without accepting;
     * a failure closes what this bound and rejects the reload.
     */
    private AddedListeners bindAdded(List<ListenerConfig> added, RelayConfig next, Runtime after)
            throws StartException {
        AddedListeners bound = new AddedListeners(new ArrayList<>(), new LinkedHashMap<>());
        Duration drain = startConfig.shutdown().drainTimeout();
        long retryAfter = startConfig.shutdown().retryAfter().toSeconds();
        try {
            for (ListenerConfig lc : added) {
                String path = "listeners[" + next.listeners().indexOf(lc) + "]";
                TcpListener l;
                try {
                    l = TcpListener.create(new ListenerContext(lc, runtime, telemetry.connectionObserver(lc),
                            after.listener(lc.name())));
                } catch (TlsConfigException e) {
                    throw new StartException("listener " + lc.name() + ": " + e.getMessage(), e);
                }
                bound.tcp().add(l);
                try {
                    l.bind(transport, boss, workers, drain, retryAfter);
                } catch (Exception e) {
                    throw new StartException("listener " + lc.name() + ": cannot bind " + lc.address() + ": "
                            + describe(e), e);
                }
                if (lc.protocols().contains(Protocol.HTTP3)) {
                    bound.h3().put(lc.name(), bindUdpBeside(l, () -> Http3Listener.create(l.context(), lc.tls(), path),
                            retryAfter, drain));
                }
            }
        } catch (StartException | RuntimeException e) {
            bound.tcp().forEach(TcpListener::closeServerChannel);
            bound.h3().values().forEach(Http3Listener::close);
            throw e;
        }
        return bound;
    }

    /** After the swap: removed listeners start draining, added ones start serving. */
    private void swapListeners(ListenerChanges changes, AddedListeners bound) {
        Duration drain = startConfig.shutdown().drainTimeout();
        for (ListenerConfig lc : changes.removed()) {
            TcpListener old = listeners.remove(lc.name());
            Http3Listener oldH3 = http3Listeners.remove(lc.name());
            listenerTls.removed(lc.name());
            retiringListeners.add(ListenerRetirement.start(old, oldH3, drain, events, exchangeGroups()));
        }
        for (TcpListener l : bound.tcp()) {
            ListenerContext ctx = l.context();
            ListenerConfig lc = ctx.config();
            ctx.pin(null);
            listeners.put(ctx.name(), l);
            listenerTls.added(lc);
            Http3Listener h3 = bound.h3().get(ctx.name());
            if (h3 != null) {
                http3Listeners.put(ctx.name(), h3);
                telemetry.http3Sockets(ctx.name(), h3::connectionsPerSocket);
                if (lc.http3().altSvc()) {
                    int port = l.localAddress().getPort();
                    int advertised = lc.http3().advertisedPort() != null ? lc.http3().advertisedPort() : port;
                    ctx.altSvc("h3=\":" + advertised + "\"; ma=" + lc.http3().altSvcMaxAge().toSeconds());
                }
                h3.startReading();
            }
            l.startAccepting();
            LOG.info("listener {} added by a reload on {} ({}{})", ctx.name(), l.localAddress(),
                    ctx.isTls() ? "tls, " : "", lc.protocols());
            events.publish("listener_added", Map.of("listener", ctx.name(), "address", l.localAddress().toString()));
        }
    }

    private static Applied describe(Runtime before, Runtime after, ClusterManager.Change change) {
        List<String> added = new ArrayList<>();
        List<String> replaced = new ArrayList<>();
        for (Cluster c : change.built()) {
            (before.clusters().containsKey(c.name()) ? replaced : added).add(c.name());
        }
        List<String> removed = before.clusters().keySet().stream()
                .filter(n -> !after.clusters().containsKey(n)).toList();
        boolean routesChanged = !before.config().routes().equals(after.config().routes())
                || !before.config().listeners().stream().map(ListenerConfig::routes).toList()
                .equals(after.config().listeners().stream().map(ListenerConfig::routes).toList());
        return new Applied(after.generation(), added, replaced, removed, change.kept(), routesChanged);
    }

    /**
     * HTTP/3 on the UDP port with the TCP listener's number; then h1/h2 responses advertise it. With {@code
     * drain} (the TCP listener is bound but not accepting yet) a port-0 listener may be bound again on a new
     * number ({@link #bindUdpBeside}); without it (HTTP/3 turned on at runtime) the number stays.
     */
    private void bindHttp3(TcpListener tcp, long retryAfter, Duration drain) throws StartException {
        ListenerContext ctx = tcp.context();
        ListenerConfig lc = ctx.config();
        if (!lc.protocols().contains(Protocol.HTTP3)) {
            return;
        }
        String path = "listeners[" + startConfig.listeners().indexOf(lc) + "]";
        Http3Listener h3 = bindUdpBeside(tcp,
                () -> Http3Listener.create(ctx, listenerTls.current(ctx.name(), lc.tls()), path), retryAfter, drain);
        http3Listeners.put(ctx.name(), h3);
        telemetry.http3Sockets(ctx.name(), h3::connectionsPerSocket);
        int port = tcp.localAddress().getPort();
        Http3Config h3c = lc.http3();
        if (h3c.altSvc()) {
            int advertised = h3c.advertisedPort() != null ? h3c.advertisedPort() : port;
            ctx.altSvc("h3=\":" + advertised + "\"; ma=" + h3c.altSvcMaxAge().toSeconds());
        }
    }

    /** What {@link #http3} did. */
    public enum Http3Toggle { TURNED_ON, TURNED_OFF, ALREADY, NO_SUCH_LISTENER, NOT_CONFIGURED }

    /**
     * Turns HTTP/3 off or on at runtime on a listener whose config has it. Off: Alt-Svc answers {@code clear}
     * on h1/h2 responses, new QUIC connections are closed at once, open ones get GOAWAY and finish their
     * streams (for up to {@code shutdown.drain_timeout}; WebSockets over HTTP/3 get a Close 1001 shortly before
     * it, as at the end of a drain), then the UDP sockets close. On: the UDP sockets are
     * bound again on the listener's port and advertised. The state is the process's: a reload keeps it for a listener
     * that stays (one a reload replaces or adds starts as its file says).
     */
    public synchronized Http3Toggle http3(String name, boolean enabled) throws StartException {
        TcpListener tcp = listeners.get(name);
        if (tcp == null) {
            return Http3Toggle.NO_SUCH_LISTENER;
        }
        ListenerConfig lc = tcp.context().config();
        if (!lc.protocols().contains(Protocol.HTTP3)) {
            return Http3Toggle.NOT_CONFIGURED;
        }
        if (draining || drainRequested.get()) {
            throw new StartException("the server is stopping", null);
        }
        Http3Listener running = http3Listeners.get(name);
        if (enabled == (running != null)) {
            return Http3Toggle.ALREADY;
        }
        if (enabled) {
            var closing = http3Closing.get(name);
            if (closing != null && !closing.isDone()) {
                throw new StartException("http3 on listener " + name + " is still being turned off (QUIC connections "
                        + "finishing, up to shutdown.drain_timeout); try again when its UDP sockets are closed", null);
            }
            tcp.context().altSvc(null);
            bindHttp3(tcp, startConfig.shutdown().retryAfter().toSeconds(), null);
            http3Listeners.get(name).startReading();
            LOG.info("listener {}: http3 turned on (admin)", name);
            events.publish("http3", java.util.Map.of("listener", name, "enabled", true));
            return Http3Toggle.TURNED_ON;
        }
        http3Listeners.remove(name);
        running.stopAccepting();
        tcp.context().altSvc("clear");
        List<io.netty.channel.Channel> open = running.connections();
        open.forEach(ch -> ch.pipeline().fireUserEventTriggered(DownstreamSession.DRAIN_EVENT));
        LOG.info("listener {}: http3 turned off (admin): {} QUIC connection(s) finishing, then the UDP sockets close",
                name, open.size());
        events.publish("http3", java.util.Map.of("listener", name, "enabled", false, "quic_connections", open.size()));
        long deadline = System.nanoTime() + startConfig.shutdown().drainTimeout().toNanos();
        java.util.concurrent.CompletableFuture<Void> closed = new java.util.concurrent.CompletableFuture<>();
        http3Closing.put(name, closed);
        // WebSockets over HTTP/3 never finish by themselves: like at the end of a drain, shortly before the
        // deadline each gets a Close frame each way (1001 "http3 turned off") and ends cleanly, rather than
        // being cut with its QUIC connection. Those over h1/h2 on the listener go on.
        long closeWebSockets = deadline - webSocketCloseLead(startConfig.shutdown().drainTimeout()).toNanos();
        Thread.ofPlatform().daemon().name("h3relay-h3-off-" + name).start(() -> {
            try {
                while (System.nanoTime() < closeWebSockets && open.stream().anyMatch(io.netty.channel.Channel::isOpen)) {
                    Thread.sleep(20);
                }
                int closing = io.h3relay.websocket.OpenWebSockets.closeMatching(exchangeGroups(),
                        s -> s.overHttp3() && name.equals(s.listenerName()), "http3_off");
                if (closing > 0) {
                    LOG.info("listener {}: closing {} WebSocket session(s) over HTTP/3 still open (http3 turned off)",
                            name, closing);
                }
                while (System.nanoTime() < deadline && open.stream().anyMatch(io.netty.channel.Channel::isOpen)) {
                    Thread.sleep(20);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            open.forEach(ch -> ch.close());
            running.close();
            closed.complete(null);
            LOG.info("listener {}: http3 UDP sockets closed", name);
            events.publish("http3_closed", java.util.Map.of("listener", name));
        });
        return Http3Toggle.TURNED_OFF;
    }

    /** Whether HTTP/3 is on (configured, and not turned off at runtime) on a listener. */
    public synchronized boolean http3Enabled(String name) {
        return http3Listeners.containsKey(name);
    }

    /** The UDP port of a listener's HTTP/3 sockets. */
    public InetSocketAddress http3Address(String name) {
        Http3Listener l = http3Listeners.get(name);
        if (l == null) {
            throw new IllegalArgumentException("no http3 on listener " + name);
        }
        return (InetSocketAddress) l.sockets().get(0).localAddress();
    }

    public Map<String, Http3Listener> http3Listeners() {
        return http3Listeners;
    }

    /** How many TCP+UDP number pairs a port-0 listener with HTTP/3 tries before it gives up. */
    private static final int EPHEMERAL_PAIR_ATTEMPTS = 16;

    /** Creates an HTTP/3 listener, checking its TLS settings. */
    private interface Http3Factory {
        Http3Listener create() throws TlsConfigException;
    }

    /**
     * Binds HTTP/3's UDP sockets on the number of the bound TCP listener {@code tcp}. A listener configured with
     * port 0 got its number from the kernel for TCP alone: another process (or another h3relay) may hold the
     * same UDP number. Then, when {@code drain} is given (the TCP socket is not accepting yet), the TCP socket is
     * bound again on a new number and the pair tried again, up to {@link #EPHEMERAL_PAIR_ATTEMPTS} times. A fixed
     * port, or any other failure, is a start error at once.
     */
    private Http3Listener bindUdpBeside(TcpListener tcp, Http3Factory factory, long retryAfter, Duration drain)
            throws StartException {
        String name = tcp.context().name();
        boolean ephemeral = drain != null && tcp.context().config().address().toSocketAddress().getPort() == 0;
        for (int attempt = 1; ; attempt++) {
            int port = tcp.localAddress().getPort();
            Http3Listener h3;
            try {
                h3 = factory.create();
            } catch (TlsConfigException e) {
                throw new StartException(e.getMessage(), e);
            }
            try {
                h3.bind(quicTransport, quicWorkers, port, retryAfter);
                return h3;
            } catch (Exception e) {
                if (!ephemeral || attempt == EPHEMERAL_PAIR_ATTEMPTS || !addressInUse(e)) {
                    throw new StartException("listener " + name + ": cannot bind udp " + port + ": " + describe(e), e);
                }
                LOG.debug("listener {}: udp {} is taken, binding tcp and udp again on a new number", name, port);
            }
            tcp.closeServerChannel();
            try {
                tcp.bind(transport, boss, workers, drain, retryAfter);
            } catch (Exception e) {
                throw new StartException("listener " + name + ": cannot bind " + tcp.context().config().address()
                        + ": " + describe(e), e);
            }
        }
    }

    /** EADDRINUSE, from NIO (BindException) or Netty's native transports (its message). */
    private static boolean addressInUse(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.BindException
                    || (t.getMessage() != null && t.getMessage().contains("Address already in use"))) {
                return true;
            }
        }
        return false;
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }

    /** The event loop groups exchanges run on: the TCP loops, then (under io_uring) the QUIC loops. */
    private List<EventLoopGroup> exchangeGroups() {
        return quicWorkers == workers ? List.of(workers) : List.of(workers, quicWorkers);
    }

    /** The socket transport the server runs on (io_uring, epoll or nio); its HTTP/3 sockets: {@code quic()}. */
    public Transport transport() {
        return transport;
    }

    public InetSocketAddress listenerAddress(String name) {
        TcpListener l = listeners.get(name);
        if (l == null) {
            throw new IllegalArgumentException("no listener " + name);
        }
        return l.localAddress();
    }

    /**
     * Adds a route to the admin API of this server (e.g. {@code h3relay demo}'s own controls); it is served
     * from the next request on, with the same token check as the built-in ones.
     */
    public void adminRoute(String method, String pattern, io.h3relay.admin.AdminRoute route) {
        admin.route(method, pattern, route);
    }

    public InetSocketAddress adminAddress() {
        return admin.localAddress();
    }

    /** Reloads and admin config changes (validate, apply, count, log). */
    public ConfigReloads reloads() {
        return reloads;
    }

    /** The activity log: health transitions, reloads, drains. */
    public io.h3relay.events.EventLog events() {
        return events;
    }

    /** The config of the runtime in service (the last one applied). */
    public RelayConfig config() {
        return runtime == null ? startConfig : runtime.current().config();
    }

    /** The runtime in service. */
    public Runtime runtime() {
        return runtime.current();
    }

    /** The clusters in service, by name (the current runtime's; read again after an apply). */
    public Map<String, Cluster> clusters() {
        return clusters.clusters();
    }

    /** The cluster manager (clusters in service and retiring ones). */
    public ClusterManager clusterManager() {
        return clusters;
    }

    public Telemetry telemetry() {
        return telemetry;
    }

    /** Listener names in config order. */
    public java.util.Set<String> listenerNames() {
        java.util.Set<String> names = new java.util.LinkedHashSet<>();
        RuntimeHolder holder = runtime;
        if (holder != null) {
            holder.current().config().listeners().forEach(lc -> names.add(lc.name()));
        }
        names.retainAll(listeners.keySet());
        names.addAll(listeners.keySet()); // between a bind and the swap of a reload: none, but never lose one
        return java.util.Collections.unmodifiableSet(names);
    }

    /** The TCP listener's context (connections, draining state), or null. */
    public ListenerContext listenerContext(String name) {
        TcpListener l = listeners.get(name);
        return l == null ? null : l.context();
    }

    public boolean isDraining() {
        return draining;
    }

    /**
     * Starts a drain on a thread of its own and returns at once; false when one was already asked for. First
     * {@code shutdown.drain_delay}: {@code /readyz} answers 503 while everything else is served as usual
     * (no Connection: close, no GOAWAY, no 503), so a load balancer sees the instance leave before it stops
     * taking work; then the drain proper ({@link #stop()}). The process of {@code h3relay serve} exits 0 once
     * the drain is done.
     */
    public boolean startDrain(String why) {
        if (draining || !drainRequested.compareAndSet(false, true)) {
            return false;
        }
        listeners.values().forEach(l -> l.context().notReady()); // builtin readyz: 503 from now on
        Duration delay = startConfig.shutdown().drainDelay();
        String timeout = Durations.format(startConfig.shutdown().drainTimeout());
        Thread.ofPlatform().name("h3relay-drain").start(() -> {
            if (delay.isPositive()) {
                LOG.info("{}: /readyz answers 503, still serving for {} (shutdown.drain_delay), then draining for up to {}",
                        why, Durations.format(delay), timeout);
                try {
                    if (!drainDelayOver.await(delay.toNanos(), TimeUnit.NANOSECONDS) && !draining) {
                        LOG.info("drain delay over: draining for up to {}", timeout);
                    } else if (!draining) {
                        LOG.info("drain delay cut short: draining for up to {}", timeout);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            } else {
                LOG.info("{}: draining for up to {}", why, timeout);
            }
            stop();
        });
        return true;
    }

    /**
     * Ends a running {@code shutdown.drain_delay} now, so the drain proper starts (a second SIGTERM/SIGINT does
     * this). False when no drain was asked for or its delay is already over.
     */
    public boolean skipDrainDelay() {
        if (!drainRequested.get() || draining || drainDelayOver.getCount() == 0) {
            return false;
        }
        drainDelayOver.countDown();
        return true;
    }

    /**
     * Drains, then stops. {@code /readyz} turns 503 at once. Listeners keep accepting while the drain
     * runs, so a client that still arrives gets 503 with Retry-After (and h1 Connection: close, h2/h3
     * GOAWAY) rather than a refused connection; connections open before the drain finish their exchanges
     * (h1 closes after the current response, h2 and h3 get GOAWAY) for up to {@code drainTimeout}. Then the
     * listeners close and what is left is reset, and every thread is released. Idempotent; returns when
     * stopped.
     */
    public void stop(Duration drainTimeout) {
        synchronized (this) {
            if (draining) {
                awaitStopped();
                return;
            }
            draining = true;
        }
        drainDelayOver.countDown(); // a stop called directly ends a drain delay still running
        try {
            List<ListenerContext> contexts = new ArrayList<>();
            List<io.netty.channel.Channel> before = new ArrayList<>();
            for (TcpListener l : listeners.values()) {
                l.context().startDraining();
                contexts.add(l.context());
            }
            for (ListenerContext c : contexts) {
                before.addAll(c.connections());
                c.connections().forEach(ch -> ch.pipeline().fireUserEventTriggered(DownstreamSession.DRAIN_EVENT));
            }
            long deadline = System.nanoTime() + drainTimeout.toNanos();
            // WebSockets still open shortly before the deadline get a Close frame each way (1001) and end
            // cleanly, rather than being cut with their connections at the deadline.
            long closeWebSockets = deadline - webSocketCloseLead(drainTimeout).toNanos();
            while (System.nanoTime() < closeWebSockets && before.stream().anyMatch(io.netty.channel.Channel::isOpen)) {
                Thread.sleep(20);
            }
            int closing = io.h3relay.websocket.OpenWebSockets.closeAll(exchangeGroups(), name -> true,
                    "drain_timeout");
            if (closing > 0) {
                LOG.info("closing {} WebSocket session(s) still open at the end of the drain", closing);
            }
            while (System.nanoTime() < deadline && before.stream().anyMatch(io.netty.channel.Channel::isOpen)) {
                Thread.sleep(20);
            }
            for (TcpListener l : listeners.values()) {
                l.closeServerChannel();
            }
            for (ListenerContext c : contexts) {
                ChannelGroup open = c.connections();
                if (!open.isEmpty()) {
                    LOG.info("listener {}: closing {} connection(s) still open after the drain", c.name(), open.size());
                    // From the head of the pipeline: an h2 connection's own close() would wait for its streams
                    // again (graceful shutdown); the drain is over, so they are reset instead.
                    for (io.netty.channel.Channel ch : open) {
                        var first = ch.pipeline().firstContext();
                        if (first != null) {
                            first.close();
                        } else {
                            ch.close();
                        }
                    }
                    open.newCloseFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            http3Closing.values().forEach(f -> f.join());
            retiringListeners.forEach(f -> f.join());
            if (watcher != null) {
                watcher.close();
            }
            http3Listeners.values().forEach(Http3Listener::close);
            admin.close();
            clusters.close();
            if (runtime != null) {
                runtime.current().policies().close();
            }
            workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            if (quicWorkers != workers) {
                quicWorkers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            if (telemetry != null) {
                telemetry.close(); // after the loops: every exchange has logged its line and ended its span
            }
            stopped.countDown();
        }
    }

    /**
     * How long before the drain's end open WebSockets are closed (Close frames, then orderly ends), so their
     * close handshake completes before the connections are closed: 1 s, or a tenth of a shorter drain.
     */
    static Duration webSocketCloseLead(Duration drainTimeout) {
        Duration tenth = drainTimeout.dividedBy(10);
        return tenth.compareTo(Duration.ofSeconds(1)) < 0 ? tenth : Duration.ofSeconds(1);
    }

    /** Stop with the configured drain timeout. */
    public void stop() {
        stop(startConfig.shutdown().drainTimeout());
    }

    public void awaitStopped() {
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop(Duration.ZERO);
    }
}
