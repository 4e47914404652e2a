package io.h3relay.server;

import io.h3relay.transport.Transport;
import io.h3relay.admin.AdminServer;
import io.h3relay.cluster.Cluster;
import io.h3relay.config.ClusterConfig;
import io.h3relay.config.ListenerConfig;
import io.h3relay.config.RelayConfig;
import io.h3relay.config.RouteConfig;
import io.h3relay.listener.ListenerContext;
import io.h3relay.listener.TcpListener;
import io.h3relay.listener.h3.Http3Listener;
import io.h3relay.config.Http3Config;
import io.h3relay.config.Protocol;
import io.h3relay.tls.TlsConfigException;
import io.h3relay.exchange.DownstreamSession;
import io.h3relay.route.RouteTable;
import io.h3relay.runtime.ListenerRuntime;
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
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The running proxy: builds the runtime (clusters, route tables, listeners) from a frozen config, binds,
 * and stops with a drain. Lifecycle: {@link #start} → serving → {@link #stop} (drain) → stopped.
 */
public final class RelayServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RelayServer.class);

    private final RelayConfig config;
    private final Transport transport;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Map<String, Cluster> clusters;
    private final Map<String, TcpListener> listeners = new LinkedHashMap<>();
    private final Map<String, Http3Listener> http3Listeners = new LinkedHashMap<>();
    private final AdminServer admin;
    private final Telemetry telemetry;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean ready;
    private volatile boolean draining;
    private final java.util.concurrent.atomic.AtomicBoolean drainRequested = new java.util.concurrent.atomic.AtomicBoolean();

    private RelayServer(RelayConfig config, Transport transport, Map<String, Cluster> clusters, Telemetry telemetry) {
        this.config = config;
        this.transport = transport;
        this.clusters = clusters;
        this.telemetry = telemetry;
        this.boss = transport.newGroup(1, "h3relay-accept");
        this.workers = transport.newGroup(Runtime.getRuntime().availableProcessors(), "h3relay-io");
        this.admin = new AdminServer(new AdminServer.Control() {
            @Override
            public boolean ready() {
                return ready && !draining;
            }

            @Override
            public boolean startDrain() {
                return RelayServer.this.startDrain("POST /drain on the admin listener");
            }

            @Override
            public java.util.Collection<Cluster> clusters() {
                return clusters.values();
            }
        });
    }

    /** Builds everything, then binds every listener; on any failure nothing stays bound. */
    public static RelayServer start(RelayConfig config) throws StartException {
        NotYetApplied.check(config);
        Transport transport = Transport.detect();
        Map<String, Cluster> clusters = new LinkedHashMap<>();
        try {
            for (ClusterConfig cc : config.clusters()) {
                clusters.put(cc.name(), Cluster.create(cc, transport));
            }
        } catch (TlsConfigException e) {
            throw new StartException(e.getMessage(), e);
        }
        Telemetry telemetry;
        try {
            telemetry = Telemetry.create(config.observability(), clusters.values(),
                    endpoint -> endpoint.health().isAvailable());
        } catch (java.io.IOException e) {
            clusters.values().forEach(Cluster::close);
            throw new StartException("observability.access_log.path: cannot open " + config.observability()
                    .accessLog().path() + ": " + describe(e), e);
        }
        RelayServer server = new RelayServer(config, transport, clusters, telemetry);
        clusters.values().forEach(c -> c.start(server.workers));
        try {
            server.bindAll();
        } catch (Exception e) {
            server.stop(Duration.ZERO);
            throw e instanceof StartException se ? se : new StartException(describe(e), e);
        }
        return server;
    }

    private void bindAll() throws Exception {
        Map<String, RouteConfig> routes = config.routes().stream()
                .collect(Collectors.toMap(RouteConfig::name, Function.identity(), (a, b) -> a, LinkedHashMap::new));
        List<TcpListener> created = new ArrayList<>();
        for (ListenerConfig lc : config.listeners()) {
            RouteTable table = RouteTable.compile(lc.routes(), routes, clusters);
            try {
                ListenerRuntime runtime = new ListenerRuntime(lc.name(), lc.isTls(), lc.limits(), table,
                        telemetry.exchangeObservers(lc));
                created.add(TcpListener.create(new ListenerContext(lc, runtime,
                        telemetry.connectionObserver(lc))));
            } catch (TlsConfigException e) {
                throw new StartException("listener " + lc.name() + ": " + e.getMessage(), e);
            }
        }
        Duration drain = config.shutdown().drainTimeout();
        long retryAfter = config.shutdown().retryAfter().toSeconds();
        for (TcpListener l : created) {
            try {
                l.bind(transport, boss, workers, drain, retryAfter);
            } catch (Exception e) {
                throw new StartException("listener " + l.context().name() + ": cannot bind "
                        + l.context().config().address() + ": " + describe(e), e);
            }
            listeners.put(l.context().name(), l);
            LOG.info("listener {} on {} ({}{})", l.context().name(), l.localAddress(),
                    l.context().isTls() ? "tls, " : "", l.context().config().protocols());
            bindHttp3(l, retryAfter);
        }
        telemetry.addAdminEndpoints(admin, () -> listeners.values().stream()
                .map(l -> l.context().connections()).toList());
        admin.endpoint("/introspect", new io.h3relay.server.IntrospectEndpoint(this,
                endpoint -> endpoint.health().isAvailable()));
        try {
            admin.bind(transport, boss, config.admin().address().toSocketAddress());
        } catch (Exception e) {
            throw new StartException("admin: cannot bind " + config.admin().address() + ": " + describe(e), e);
        }
        LOG.info("admin on {} (transport {})", admin.localAddress(), transport.name());
        ready = true;
    }

    /** HTTP/3 on the UDP port with the TCP listener's number; then h1/h2 responses advertise it. */
    private void bindHttp3(TcpListener tcp, long retryAfter) throws StartException {
        ListenerContext ctx = tcp.context();
        ListenerConfig lc = ctx.config();
        if (!lc.protocols().contains(Protocol.HTTP3)) {
            return;
        }
        String path = "listeners[" + config.listeners().indexOf(lc) + "]";
        int port = tcp.localAddress().getPort();
        try {
            Http3Listener h3 = Http3Listener.create(ctx, path);
            h3.bind(transport, workers, port, retryAfter);
            http3Listeners.put(ctx.name(), h3);
            telemetry.http3Sockets(ctx.name(), h3::connectionsPerSocket);
        } catch (TlsConfigException e) {
            throw new StartException(e.getMessage(), e);
        } catch (Exception e) {
            throw new StartException("listener " + ctx.name() + ": cannot bind udp " + port + ": " + describe(e), e);
        }
        Http3Config h3c = lc.http3();
        if (h3c.altSvc()) {
            int advertised = h3c.advertisedPort() != null ? h3c.advertisedPort() : port;
            ctx.altSvc("h3=\":" + advertised + "\"; ma=" + h3c.altSvcMaxAge().toSeconds());
        }
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

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }

    public InetSocketAddress listenerAddress(String name) {
        TcpListener l = listeners.get(name);
        if (l == null) {
            throw new IllegalArgumentException("no listener " + name);
        }
        return l.localAddress();
    }

    public InetSocketAddress adminAddress() {
        return admin.localAddress();
    }

    public RelayConfig config() {
        return config;
    }

    public Map<String, Cluster> clusters() {
        return clusters;
    }

    public Telemetry telemetry() {
        return telemetry;
    }

    /** Listener names in config order. */
    public java.util.Set<String> listenerNames() {
        return java.util.Collections.unmodifiableSet(listeners.keySet());
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
     * Starts the drain on a thread of its own and returns at once; false when already draining. The process
     * of {@code h3relay serve} exits 0 once the drain is done.
     */
    public boolean startDrain(String why) {
        if (draining || !drainRequested.compareAndSet(false, true)) {
            return false;
        }
        Thread.ofPlatform().name("h3relay-drain").start(() -> {
            LOG.info("{}: draining for up to {}", why, config.shutdown().drainTimeout());
            stop();
        });
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
            http3Listeners.values().forEach(Http3Listener::close);
            admin.close();
            clusters.values().forEach(Cluster::close);
            workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            telemetry.close(); // after the loops: every exchange has logged its line and ended its span
            stopped.countDown();
        }
    }

    /** Stop with the configured drain timeout. */
    public void stop() {
        stop(config.shutdown().drainTimeout());
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
