/*
 * H3Load: a closed-loop HTTP/3 load driver on Netty's HTTP/3 client, for bench/run-h3.sh.
 *
 *   java -cp CLASSPATH bench/H3Load.java --url https://127.0.0.1:PORT/ [--connections C] [--streams S]
 *        [--duration SECONDS] [--warmup SECONDS] [--threads N] (--insecure | --ca FILE) [--cpu NAME=PID]...
 *
 * CLASSPATH: h3relay-testing's runtime classpath (netty-codec-http3, netty-codec-native-quic for
 * linux-x86_64); see bench/README.md. Run with the Java source launcher (JDK >= 21).
 *
 * Each connection is its own QUIC connection on its own UDP socket (so a server with several
 * SO_REUSEPORT sockets sees them spread like real clients), with S stream slots. Each slot sends
 * GET, waits for the whole response, records the latency and at once sends the next GET on a new
 * request stream: a closed loop, C x S requests in flight. Requests that complete during the warm-up
 * are not counted; the ones that complete in the measured window are.
 *
 * Output, one line on stdout (times in milliseconds):
 *   requests=N errors=N seconds=S req_s=R p50_ms=A p90_ms=B p99_ms=C max_ms=D cpu_ticks.self=T [cpu_ticks.NAME=T]...
 * cpu_ticks: user + system clock ticks (/proc/PID/stat, Linux) used during the measured window by this
 * process and by each process given with --cpu (e.g. the proxy under test), so CPU per request can be
 * computed without counting the warm-up.
 * Exit status: 0 on a run, 1 when setup fails (bad arguments, a connection that does not come up) or
 * when no request succeeded. Everything is bounded in time: connect 10 s, the run, a 3 s drain.
 */

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import java.io.File;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

public final class H3Load {

    record Options(URI url, int connections, int streams, double duration, double warmup, int threads,
                   boolean insecure, File ca, Map<String, Long> cpuPids) {}

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("H3Load: " + e.getMessage());
            System.err.println("usage: H3Load --url https://HOST:PORT/PATH [--connections C] [--streams S] "
                    + "[--duration SECONDS] [--warmup SECONDS] [--threads N] (--insecure | --ca FILE) [--cpu NAME=PID]...");
            System.exit(1);
            return;
        }
        // A watchdog: whatever hangs, the process ends (connect + warm-up + run + drain + slack).
        long limitMs = (long) ((o.warmup() + o.duration()) * 1000) + 30_000;
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(limitMs);
                System.err.println("H3Load: still running after " + limitMs + " ms, giving up");
                Runtime.getRuntime().halt(1);
            } catch (InterruptedException ignored) {
                // normal end
            }
        }, "h3load-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        System.exit(run(o));
    }

    static int run(Options o) throws Exception {
        QuicSslContextBuilder tlsBuilder = QuicSslContextBuilder.forClient()
                .applicationProtocols(Http3.supportedApplicationProtocols());
        QuicSslContext tls = o.insecure()
                ? tlsBuilder.trustManager(InsecureTrustManagerFactory.INSTANCE).build()
                : tlsBuilder.trustManager(o.ca()).build();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(o.threads(), NioIoHandler.newFactory());
        List<Connection> connections = new ArrayList<>();
        try {
            InetSocketAddress target = new InetSocketAddress(o.url().getHost(), port(o.url()));
            String authority = o.url().getHost() + ":" + port(o.url());
            String path = o.url().getRawPath() == null || o.url().getRawPath().isEmpty() ? "/" : o.url().getRawPath();
            if (o.url().getRawQuery() != null) {
                path += "?" + o.url().getRawQuery();
            }
            for (int i = 0; i < o.connections(); i++) {
                connections.add(Connection.open(group, tls, target, authority, path, o.streams()));
            }
        } catch (Exception e) {
            System.err.println("H3Load: setup failed: " + e);
            closeAll(connections, group);
            return 1;
        }

        // The window: the clock starts once every connection is up.
        long start = System.nanoTime();
        long measureFrom = start + (long) (o.warmup() * 1e9);
        long measureTo = measureFrom + (long) (o.duration() * 1e9);
        for (Connection c : connections) {
            c.eventLoop().execute(() -> c.start(measureFrom, measureTo));
        }
        sleepUntil(measureFrom);
        Map<String, Long> cpuFrom = cpuTicks(o.cpuPids());
        sleepUntil(measureTo);
        Map<String, Long> cpuTo = cpuTicks(o.cpuPids());
        // Stop sending; give in-flight requests a moment so the connections close cleanly.
        for (Connection c : connections) {
            c.eventLoop().execute(c::stop);
        }
        long drainUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        for (Connection c : connections) {
            while (System.nanoTime() < drainUntil && c.eventLoop().submit(c::inFlight).get() > 0) {
                Thread.sleep(10);
            }
        }

        // Read each connection's counters on its own event loop (they are written only there).
        long requests = 0, errors = 0;
        List<long[]> samples = new ArrayList<>();
        int lost = 0;
        for (Connection c : connections) {
            Connection.Result r = c.eventLoop().submit(c::result).get(5, TimeUnit.SECONDS);
            requests += r.requests();
            errors += r.errors();
            samples.add(r.latenciesMicros());
            if (r.lost()) {
                lost++;
            }
        }
        closeAll(connections, group);

        long[] all = merge(samples);
        Arrays.sort(all);
        double seconds = o.duration();
        StringBuilder cpu = new StringBuilder();
        cpuTo.forEach((name, ticks) -> cpu.append(" cpu_ticks.").append(name).append('=')
                .append(ticks >= 0 && cpuFrom.getOrDefault(name, -1L) >= 0 ? ticks - cpuFrom.get(name) : -1));
        System.out.printf(Locale.ROOT, "requests=%d errors=%d seconds=%.1f req_s=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f%s%n",
                requests, errors, seconds, requests / seconds, pct(all, 0.50), pct(all, 0.90), pct(all, 0.99),
                all.length == 0 ? Double.NaN : all[all.length - 1] / 1000.0, cpu);
        if (lost > 0) {
            System.err.println("H3Load: " + lost + " of " + connections.size() + " connections closed during the run");
        }
        if (requests == 0) {
            System.err.println("H3Load: no request succeeded");
            return 1;
        }
        return 0;
    }

    /**
     * One QUIC connection and its stream slots. Every field is touched only on the connection's event
     * loop (the QUIC channel, its streams and the UDP channel share it), so no locks.
     */
    static final class Connection {
        private final Channel udp;
        private final QuicChannel quic;
        private final String authority;
        private final String path;
        private final int slots;
        private long measureFrom;
        private long measureTo;
        private boolean running;
        private int inFlight;
        private long requests;
        private long errors;
        private long[] latencies = new long[1 << 16];
        private int count;

        record Result(long requests, long errors, long[] latenciesMicros, boolean lost) {}

        private Connection(Channel udp, QuicChannel quic, String authority, String path, int slots) {
            this.udp = udp;
            this.quic = quic;
            this.authority = authority;
            this.path = path;
            this.slots = slots;
        }

        static Connection open(EventLoopGroup group, QuicSslContext tls, InetSocketAddress target,
                               String authority, String path, int streams) throws Exception {
            var codec = Http3.newQuicClientCodecBuilder()
                    .sslContext(tls)
                    .sslEngineProvider(q -> tls.newEngine(q.alloc(), target.getHostString(), target.getPort()))
                    .maxIdleTimeout(30_000, TimeUnit.MILLISECONDS)
                    .initialMaxData(16L << 20)
                    .initialMaxStreamDataBidirectionalLocal(1L << 20)
                    .initialMaxStreamDataBidirectionalRemote(1L << 20)
                    .initialMaxStreamsBidirectional(100)
                    .initialMaxStreamsUnidirectional(100)
                    .build();
            // Its own UDP socket: its own 4-tuple, as separate clients would have.
            Channel udp = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(codec)
                    .bind(0).sync().channel();
            try {
                QuicChannel quic = QuicChannel.newBootstrap(udp)
                        .handler(new Http3ClientConnectionHandler())
                        .remoteAddress(target)
                        .connect().get(10, TimeUnit.SECONDS);
                return new Connection(udp, quic, authority, path, streams);
            } catch (Exception e) {
                udp.close();
                throw e;
            }
        }

        EventLoop eventLoop() {
            return quic.eventLoop();
        }

        void start(long from, long to) {
            measureFrom = from;
            measureTo = to;
            running = true;
            for (int i = 0; i < slots; i++) {
                send();
            }
        }

        void stop() {
            running = false;
        }

        int inFlight() {
            return inFlight;
        }

        Result result() {
            return new Result(requests, errors, Arrays.copyOf(latencies, count), !quic.isActive());
        }

        void close() {
            quic.close();
            udp.close();   // closing a client QuicChannel does not close its UDP channel
        }

        /** Opens a request stream and sends GET with the end of the request; the response comes to {@link Exchange}. */
        private void send() {
            if (!running || !quic.isActive()) {
                return;
            }
            inFlight++;
            Exchange exchange = new Exchange(this, System.nanoTime());
            Http3.newRequestStream(quic, exchange).addListener(f -> {
                if (!f.isSuccess()) {
                    exchange.finish(false);
                    return;
                }
                QuicStreamChannel stream = (QuicStreamChannel) f.getNow();
                Http3HeadersFrame headers = new DefaultHttp3HeadersFrame();
                headers.headers().method("GET").path(path).scheme("https").authority(authority);
                // Write without flushing, then the FIN: shutdownOutput() flushes once, so HEADERS and FIN leave
                // in one packet, as browsers and other clients send a GET (writeAndFlush + SHUTDOWN_OUTPUT
                // would send two packets per request).
                stream.write(headers).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
                stream.shutdownOutput().addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
            });
        }

        /** One request's end: count it if it ended inside the window, then the slot sends the next one. */
        void done(long startedNanos, boolean ok) {
            inFlight--;
            long now = System.nanoTime();
            if (now >= measureFrom && now < measureTo) {
                if (ok) {
                    requests++;
                    if (count == latencies.length) {
                        latencies = Arrays.copyOf(latencies, count * 2);
                    }
                    latencies[count++] = (now - startedNanos) / 1000;
                } else {
                    errors++;
                }
            }
            if (ok) {
                send();
            } else if (running) {
                // After a failure, do not spin: try this slot again in a millisecond.
                eventLoop().schedule(this::send, 1, TimeUnit.MILLISECONDS);
            }
        }
    }

    /** The response side of one request stream: a 2xx status and the end of the stream make a success. */
    static final class Exchange extends Http3RequestStreamInboundHandler {
        private final Connection connection;
        private final long started;
        private boolean ok;
        private boolean finished;

        Exchange(Connection connection, long started) {
            this.connection = connection;
            this.started = started;
        }

        void finish(boolean success) {
            if (!finished) {
                finished = true;
                connection.done(started, success);
            }
        }

        @Override
        protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
            CharSequence status = frame.headers().status();
            // Interim (1xx) responses come before the final one; trailers have no :status.
            if (status != null && status.length() == 3 && status.charAt(0) != '1') {
                ok = status.charAt(0) == '2';
            }
        }

        @Override
        protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
            frame.release();
        }

        @Override
        protected void channelInputClosed(ChannelHandlerContext ctx) {
            finish(ok);
            ctx.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            finish(false);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            finish(false);   // reset or closed before the response ended (no-op after a success)
            super.channelInactive(ctx);
        }
    }

    // ------------------------------------------------------------------ helpers

    static void closeAll(List<Connection> connections, EventLoopGroup group) {
        for (Connection c : connections) {
            c.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    static void sleepUntil(long nanoTime) throws InterruptedException {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) {
            Thread.sleep(Math.max(1, Math.min(100, left / 1_000_000)));
        }
    }

    /** user + system clock ticks per named pid ("self": this process); -1 where /proc cannot be read. */
    static Map<String, Long> cpuTicks(Map<String, Long> pids) {
        Map<String, Long> ticks = new LinkedHashMap<>();
        ticks.put("self", cpuTicks(ProcessHandle.current().pid()));
        pids.forEach((name, pid) -> ticks.put(name, cpuTicks(pid)));
        return ticks;
    }

    static long cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // Fields after the parenthesised command name (which may hold spaces): state is [0], utime [11], stime [12].
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (Exception e) {
            return -1;
        }
    }

    static long[] merge(List<long[]> parts) {
        int n = 0;
        for (long[] p : parts) {
            n += p.length;
        }
        long[] all = new long[n];
        int at = 0;
        for (long[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    /** Nearest-rank percentile of sorted microseconds, in milliseconds. */
    static double pct(long[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))] / 1000.0;
    }

    static int port(URI url) {
        return url.getPort() > 0 ? url.getPort() : 443;
    }

    static Options parse(String[] args) {
        URI url = null;
        int connections = 4, streams = 16, threads = 1;
        double duration = 10, warmup = 0;
        boolean insecure = false;
        File ca = null;
        Map<String, Long> cpuPids = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--insecure" -> insecure = true;
                case "--url", "--connections", "--streams", "--duration", "--warmup", "--threads", "--ca", "--cpu" -> {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(a + " needs a value");
                    }
                    String v = args[++i];
                    switch (a) {
                        case "--url" -> url = URI.create(v);
                        case "--connections" -> connections = intIn(a, v, 1, 10_000);
                        case "--streams" -> streams = intIn(a, v, 1, 100);
                        case "--threads" -> threads = intIn(a, v, 1, 256);
                        case "--duration" -> duration = secondsIn(a, v, 0.1);
                        case "--warmup" -> warmup = secondsIn(a, v, 0);
                        case "--cpu" -> {
                            int eq = v.indexOf('=');
                            if (eq <= 0 || !v.substring(0, eq).matches("[A-Za-z0-9_-]+") || !v.substring(eq + 1).matches("[0-9]{1,10}")) {
                                throw new IllegalArgumentException("--cpu " + v + " (expected: NAME=PID)");
                            }
                            cpuPids.put(v.substring(0, eq), Long.parseLong(v.substring(eq + 1)));
                        }
                        default -> ca = new File(v);
                    }
                }
                default -> throw new IllegalArgumentException("unknown argument: " + a);
            }
        }
        if (url == null || !"https".equals(url.getScheme()) || url.getHost() == null) {
            throw new IllegalArgumentException("--url https://HOST:PORT/PATH is required");
        }
        if (insecure == (ca != null)) {
            throw new IllegalArgumentException("give exactly one of --insecure and --ca FILE");
        }
        if (ca != null && !ca.canRead()) {
            throw new IllegalArgumentException("--ca " + ca + ": cannot read");
        }
        return new Options(url, connections, streams, duration, warmup, threads, insecure, ca, cpuPids);
    }

    static int intIn(String name, String v, int min, int max) {
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(name + ": " + v + " (expected: " + min + "-" + max + ")");
    }

    static double secondsIn(String name, String v, double min) {
        try {
            double d = Double.parseDouble(v.endsWith("s") ? v.substring(0, v.length() - 1) : v);
            if (d >= min && d <= 3600) {
                return d;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(name + ": " + v + " (expected: seconds, " + min + "-3600)");
    }
}
