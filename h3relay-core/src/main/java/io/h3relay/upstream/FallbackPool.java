package io.h3relay.upstream;

import io.h3relay.config.ClusterConfig;
import io.h3relay.endpoint.Endpoint;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code protocol: http3} with {@code protocol_policy: or_lower}: HTTP/3 to the endpoint while QUIC works,
 * else HTTP/2 over TLS, else HTTP/1.1 over TLS, behind one {@link UpstreamPool}.
 *
 * <pre>
 *   acquire ─► h3-broken? ─yes─► TCP (h2; http/1.1 once the endpoint refused h2 by ALPN)   reason h3_broken
 *                │ no
 *                ▼
 *             QUIC stream (Http3Pool) ──── not there after race_delay? ─► TCP too; first one wins  quic_slow
 *                │ handshake failed / timed out
 *                ▼
 *             mark h3-broken for broken_backoff (doubling per failure, at most broken_backoff_max) ─► TCP  quic_failed
 * </pre>
 *
 * As browsers do (RFC 9114 leaves it to clients): the QUIC attempt races TCP, and a QUIC connection that
 * completes after TCP won stays in the h3 pool for the next requests. An endpoint whose QUIC failed is left
 * on TCP until its back-off ends; the next request then tries QUIC again (racing TCP, so it costs at most
 * {@code race_delay}). A QUIC connection that works clears the mark and the back-off. Each request that
 * went lower than h3 is counted by {@code (from, to, reason)} ({@link #fallbacks()}, the metric
 * {@code h3relay_upstream_protocol_fallbacks_total}).
 *
 * <p>The state is per endpoint and shared by the event loops (volatile fields; a race between loops at worst
 * tries QUIC once more or marks it broken twice).
 */
public final class FallbackPool implements UpstreamPool {
    private static final Logger LOG = LoggerFactory.getLogger(FallbackPool.class);

    private final Endpoint endpoint;
    private final ClusterConfig.ProtocolPolicy policy;
    private final Http3Pool h3;
    private final Http2Pool h2;
    private final Http1Pool h1;
    private volatile long brokenUntil;
    private volatile int quicFailures;
    private volatile boolean h3Seen;
    /** The endpoint answered ALPN without h2: TCP goes straight to HTTP/1.1. */
    private volatile boolean h2Refused;
    private volatile boolean tcpSeen;
    private volatile Throwable lastFailure;
    /** {@code protocol: auto}: QUIC only while the endpoint's Alt-Svc advertises h3 on its port. */
    private final boolean auto;
    /** When the cached {@code Alt-Svc: h3} advertisement expires (nanoTime); 0: none cached. */
    private volatile long altSvcUntil;
    private final Map<String, LongAdder> fallbacks = new ConcurrentHashMap<>();
    private final UpstreamPool tcpSide = new TcpSide();

    public FallbackPool(Endpoint endpoint, ClusterConfig.ProtocolPolicy policy, Http3Pool h3, Http2Pool h2,
                        Http1Pool h1, boolean auto) {
        this.auto = auto;
        this.endpoint = endpoint;
        this.policy = policy;
        this.h3 = h3;
        this.h2 = h2;
        this.h1 = h1;
    }

    @Override
    public Endpoint endpoint() {
        return endpoint;
    }

    @Override
    public UpstreamProtocol protocol() {
        return useQuic() ? UpstreamProtocol.HTTP_3 : tcpProtocol();
    }

    /** Whether the next request tries QUIC: not h3-broken, and (auto) an Alt-Svc h3 advertisement is cached. */
    private boolean useQuic() {
        return !isH3Broken() && (!auto || altSvcForMillis() > 0);
    }

    /** {@code auto}: milliseconds the cached {@code Alt-Svc: h3} advertisement still holds; 0 when none. */
    public long altSvcForMillis() {
        long until = altSvcUntil;
        long left = until == 0 ? 0 : until - System.nanoTime();
        return left <= 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(left);
    }

    public boolean isAuto() {
        return auto;
    }

    /**
     * An {@code Alt-Svc} header from the endpoint (RFC 7838): {@code clear} forgets the advertisement; an
     * {@code h3} alternative on the endpoint's own host and port is cached for its {@code ma} (default 24 h;
     * {@code ma=0} forgets it). Alternatives on another host or port are not used.
     */
    void altSvc(String header) {
        String v = header.trim();
        if (v.equalsIgnoreCase("clear")) {
            altSvcUntil = 0;
            return;
        }
        for (String alt : v.split(",")) {
            String[] parts = alt.trim().split(";");
            String first = parts[0].trim();
            if (!first.startsWith("h3=\"") || !first.endsWith("\"")) {
                continue;
            }
            String authority = first.substring(4, first.length() - 1);
            int colon = authority.lastIndexOf(':');
            if (colon < 0) {
                continue;
            }
            String host = authority.substring(0, colon);
            int port;
            try {
                port = Integer.parseInt(authority.substring(colon + 1));
            } catch (NumberFormatException e) {
                continue;
            }
            if (port != endpoint.address().port() || !(host.isEmpty()
                    || host.equalsIgnoreCase(QuicUpstreamConnector.host(endpoint)))) {
                continue;
            }
            long ma = 86_400;
            for (int i = 1; i < parts.length; i++) {
                String p = parts[i].trim();
                if (p.startsWith("ma=")) {
                    try {
                        ma = Long.parseLong(p.substring(3).trim());
                    } catch (NumberFormatException e) {
                        ma = -1;
                    }
                }
            }
            if (ma < 0) {
                continue;
            }
            if (ma == 0) {
                altSvcUntil = 0;
            } else {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.min(ma, 365L * 86_400));
                altSvcUntil = until == 0 ? 1 : until;
            }
            return;
        }
    }

    private UpstreamProtocol tcpProtocol() {
        return h2Refused ? UpstreamProtocol.HTTP_1_1 : UpstreamProtocol.HTTP_2;
    }

    /** QUIC is not tried now: it failed, and its back-off has not ended. */
    public boolean isH3Broken() {
        return brokenUntil != 0 && System.nanoTime() - brokenUntil < 0;
    }

    /** Milliseconds until QUIC is tried again; 0 when it is not broken. */
    public long h3BrokenForMillis() {
        long until = brokenUntil;
        long left = until == 0 ? 0 : until - System.nanoTime();
        return left <= 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(left);
    }

    /** Consecutive QUIC failures (what the back-off doubles with). */
    public int quicFailures() {
        return quicFailures;
    }

    /** The protocols this endpoint was seen to speak ({@code h3}, {@code h2}, {@code http/1.1}). */
    public List<String> knownProtocols() {
        List<String> out = new ArrayList<>(3);
        if (h3Seen) {
            out.add(UpstreamProtocol.HTTP_3.alpn());
        }
        if (tcpSeen) {
            out.add(tcpProtocol().alpn());
        }
        return out;
    }

    /** Requests that went lower than h3, by {@code from|to|reason}. */
    public Map<String, LongAdder> fallbacks() {
        return fallbacks;
    }

    private void countFallback(UpstreamProtocol to, String reason) {
        fallbacks.computeIfAbsent(UpstreamProtocol.HTTP_3.alpn() + "|" + to.alpn() + "|" + reason,
                k -> new LongAdder()).increment();
    }

    private void quicFailed(Throwable cause) {
        if (cause == lastFailure) {
            return; // the same failed connection, seen by another request that waited for it
        }
        lastFailure = cause;
        if (auto) {
            altSvcUntil = 0; // the advertisement did not hold: forget it (RFC 7838 §2.4)
        }
        int n = quicFailures + 1;
        quicFailures = n;
        long backoff = backoffNanos(policy, n);
        long until = System.nanoTime() + backoff;
        brokenUntil = until == 0 ? 1 : until;
        LOG.info("endpoint {}: QUIC failed ({}); h3-broken for {} ms, using TCP", endpoint, cause.getMessage(),
                TimeUnit.NANOSECONDS.toMillis(backoff));
    }

    /** broken_backoff after the first failure, doubling with each further one, at most broken_backoff_max. */
    static long backoffNanos(ClusterConfig.ProtocolPolicy policy, int failures) {
        long base = policy.brokenBackoff().toNanos();
        long max = policy.brokenBackoffMax().toNanos();
        long backoff = base;
        for (int i = 1; i < failures && backoff < max; i++) {
            backoff *= 2;
        }
        return Math.min(backoff, max);
    }

    private void quicWorked() {
        h3Seen = true;
        if (brokenUntil != 0 || quicFailures != 0) {
            LOG.info("endpoint {}: QUIC works again; back to HTTP/3", endpoint);
        }
        brokenUntil = 0;
        quicFailures = 0;
    }

    /** A failure of the QUIC attempt that says QUIC cannot be used with this endpoint (not a limit of ours). */
    private static boolean quicUnusable(Throwable cause) {
        return !(cause instanceof PoolExhaustedException) && !(cause instanceof PoolClosedException);
    }

    @Override
    public UpstreamStream tryAcquire(EventLoop loop) {
        if (useQuic()) {
            return watch(h3.tryAcquire(loop));
        }
        UpstreamStream s = h2Refused ? h1.tryAcquire(loop) : h2.tryAcquire(loop);
        if (s != null && isH3Broken() && !auto) {
            countFallback(s.protocol(), "h3_broken");
        }
        return watch(s);
    }

    /** auto: streams report the endpoint's Alt-Svc (an h3 response may say {@code clear}). */
    private UpstreamStream watch(UpstreamStream s) {
        return s == null || !auto ? s : new AltSvcWatchingStream(s, this::altSvc);
    }

    @Override
    public Future<UpstreamStream> acquire(EventLoop loop) {
        Promise<UpstreamStream> result = loop.newPromise();
        if (!useQuic()) {
            tcp(loop, result, isH3Broken() && !auto ? "h3_broken" : null);
            return result;
        }
        Race race = new Race(loop, result);
        Future<UpstreamStream> quic = h3.acquire(loop);
        race.quic = quic;
        if (!quic.isDone()) {
            race.timer = loop.schedule((Runnable) race::startTcp, policy.raceDelay().toNanos(), TimeUnit.NANOSECONDS);
        }
        quic.addListener(f -> race.quicDone(quic));
        result.addListener(f -> race.resultDone());
        return result;
    }

    /** One acquisition racing QUIC against TCP; on its event loop. */
    private final class Race {
        final EventLoop loop;
        final Promise<UpstreamStream> result;
        Future<UpstreamStream> quic;
        Promise<UpstreamStream> tcp;
        ScheduledFuture<?> timer;
        Throwable quicFailure;

        Race(EventLoop loop, Promise<UpstreamStream> result) {
            this.loop = loop;
            this.result = result;
        }

        void quicDone(Future<UpstreamStream> f) {
            if (timer != null) {
                timer.cancel(false);
            }
            if (f.isSuccess()) {
                quicWorked();
                UpstreamStream s = watch(f.getNow());
                if (!result.trySuccess(s)) {
                    s.abort("TCP won the race"); // its connection stays in the h3 pool for the next requests
                }
                return;
            }
            if (f.isCancelled()) {
                return;
            }
            Throwable cause = f.cause();
            if (!quicUnusable(cause)) {
                if (tcp == null) {
                    result.tryFailure(cause); // our own limit: not a reason to go to TCP
                }
                return;
            }
            quicFailure = cause;
            quicFailed(cause);
            if (tcp == null) {
                startTcp("quic_failed");
            }
        }

        void startTcp() {
            if (tcp == null && !result.isDone()) {
                startTcp("quic_slow");
            }
        }

        void startTcp(String reason) {
            tcp = loop.newPromise();
            tcp.addListener(f -> {
                if (f.isSuccess()) {
                    UpstreamStream s = (UpstreamStream) f.getNow();
                    if (result.trySuccess(s)) {
                        countFallback(s.protocol(), quicFailure != null ? "quic_failed" : reason);
                    } else {
                        s.finish(true); // QUIC won meanwhile: the TCP connection stays pooled
                    }
                } else if (quicFailure != null || quic.isDone()) {
                    result.tryFailure(f.cause());
                }
                // else: QUIC is still connecting and may yet win
            });
            FallbackPool.this.tcp(loop, tcp, reason);
        }

        void resultDone() {
            if (result.isCancelled()) {
                quic.cancel(false);
                if (tcp != null) {
                    tcp.cancel(false);
                }
            }
        }
    }

    /** A TCP stream: h2, or http/1.1 once the endpoint refused h2 (ALPN); counted when it is the result's. */
    private void tcp(EventLoop loop, Promise<UpstreamStream> into, String reason) {
        Future<UpstreamStream> f = h2Refused ? h1.acquire(loop) : h2.acquire(loop);
        f.addListener(x -> {
            if (x.isSuccess()) {
                tcpSeen = true;
                UpstreamStream s = watch((UpstreamStream) x.getNow());
                if (!into.trySuccess(s)) {
                    s.finish(true);
                } else if ("h3_broken".equals(reason)) {
                    countFallback(s.protocol(), reason);
                }
                return;
            }
            Throwable cause = x.cause();
            if (cause instanceof UpstreamConnector.UpstreamTlsException tls && tls.alpnRefused() && !h2Refused) {
                LOG.info("endpoint {} does not speak HTTP/2 (ALPN): falling back to HTTP/1.1", endpoint);
                h2Refused = true;
                countFallback(UpstreamProtocol.HTTP_1_1, "alpn");
                h1.acquire(loop).addListener(y -> {
                    if (y.isSuccess()) {
                        tcpSeen = true;
                        UpstreamStream s = watch((UpstreamStream) y.getNow());
                        if (!into.trySuccess(s)) {
                            s.finish(true);
                        }
                    } else {
                        into.tryFailure(y.cause());
                    }
                });
                return;
            }
            into.tryFailure(cause);
        });
        into.addListener(p -> {
            if (p.isCancelled()) {
                f.cancel(false);
            }
        });
    }

    @Override
    public UpstreamPool overTcp() {
        return tcpSide;
    }

    /** The TCP side alone (h2, or http/1.1 once ALPN refused h2), for requests HTTP/3 cannot carry; no fallback is counted. */
    private final class TcpSide implements UpstreamPool {
        @Override
        public Endpoint endpoint() {
            return endpoint;
        }

        @Override
        public UpstreamProtocol protocol() {
            return tcpProtocol();
        }

        @Override
        public UpstreamStream tryAcquire(EventLoop loop) {
            return watch(h2Refused ? h1.tryAcquire(loop) : h2.tryAcquire(loop));
        }

        @Override
        public Future<UpstreamStream> acquire(EventLoop loop) {
            Promise<UpstreamStream> result = loop.newPromise();
            tcp(loop, result, null);
            return result;
        }

        @Override
        public Future<UpstreamStream> openDedicated(EventLoop loop) {
            return h2Refused ? h1.openDedicated(loop) : h2.openDedicated(loop);
        }

        @Override
        public int connectionCount() {
            return h2.connectionCount() + h1.connectionCount();
        }

        @Override
        public int idleCount() {
            return h2.idleCount() + h1.idleCount();
        }

        @Override
        public int pendingCount() {
            return h2.pendingCount() + h1.pendingCount();
        }

        @Override
        public void close() {
            // a view: the FallbackPool closes its pools
        }
    }

    @Override
    public Future<UpstreamStream> openDedicated(EventLoop loop) {
        if (useQuic()) {
            return h3.openDedicated(loop);
        }
        return h2Refused ? h1.openDedicated(loop) : h2.openDedicated(loop);
    }

    @Override
    public int connectionCount() {
        return h3.connectionCount() + h2.connectionCount() + h1.connectionCount();
    }

    @Override
    public int idleCount() {
        return h3.idleCount() + h2.idleCount() + h1.idleCount();
    }

    @Override
    public int pendingCount() {
        return h3.pendingCount() + h2.pendingCount() + h1.pendingCount();
    }

    @Override
    public void close() {
        h3.close();
        h2.close();
        h1.close();
    }
}
