package io.h3relay.client.load;

import io.h3relay.client.ClientConnection;
import io.h3relay.client.Connector;
import io.h3relay.client.ErrorKind;
import io.h3relay.client.Protocol;
import io.h3relay.client.RequestFailure;
import io.h3relay.client.Transports;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a load: opens every connection first (so the clock does not include handshakes), then starts
 * all drivers at once, waits until each has finished (a bounded wait: past the end of a timed run, the
 * per-request timeout bounds the rest), and merges their counters.
 */
public final class LoadRun {
    private LoadRun() {
    }

    /**
     * @throws RequestFailure when not one connection could be opened (nothing was measured)
     */
    public static LoadResult run(LoadOptions options) throws RequestFailure, InterruptedException {
        Transports transports = Transports.detect();
        EventLoopGroup group = transports.newGroup(options.threads(), "h3relay-bench");
        Connector connector = new Connector(options.tls(), transports, options.timeout());
        List<EventLoop> loops = new ArrayList<>();
        for (EventExecutor e : group) {
            loops.add((EventLoop) e);
        }
        List<LoadDriver> drivers = new ArrayList<>();
        try {
            List<Future<ClientConnection>> opening = new ArrayList<>();
            for (int i = 0; i < options.connections(); i++) {
                EventLoop loop = loops.get(i % loops.size());
                opening.add(connector.connect(loop, options.request().target(), options.protocol()));
            }
            Protocol negotiated = null;
            RequestFailure firstFailure = null;
            List<ClientConnection> opened = new ArrayList<>();
            for (Future<ClientConnection> f : opening) {
                f.await(options.timeout().toMillis() + 1000);
                if (f.isSuccess()) {
                    opened.add(f.getNow());
                    negotiated = negotiated == null ? f.getNow().protocol() : negotiated;
                } else {
                    opened.add(null);
                    if (firstFailure == null) {
                        firstFailure = f.cause() == null ? new RequestFailure(ErrorKind.CONNECT, "connect timed out")
                                : RequestFailure.classify(f.cause(), ErrorKind.CONNECT);
                    }
                }
            }
            if (negotiated == null) {
                throw firstFailure;
            }
            LoadPlan plan = new LoadPlan(options, System.nanoTime());
            for (int i = 0; i < options.connections(); i++) {
                LoadDriver d = new LoadDriver(plan, i, loops.get(i % loops.size()), connector);
                ClientConnection c = opened.get(i);
                drivers.add(d);
                d.loop().execute(() -> {
                    if (c != null) {
                        d.adopt(c);
                    }
                    d.start();
                });
            }
            plan.finished().await();
            LoadStats total = new LoadStats();
            for (LoadDriver d : drivers) {
                LoadStats s = d.loop().submit(() -> {
                    d.closeConnection();
                    return d.stats;
                }).get(5, TimeUnit.SECONDS);
                total.merge(s);
            }
            // A timed run's rates are what arrived inside its window (as wrk counts): a few slow requests
            // finishing after it must not stretch the window. A run of N requests lasts until its last one.
            boolean timed = options.requests() == 0;
            double seconds = timed ? options.duration().toNanos() / 1e9
                    : total.lastCountedEnd > plan.warmEnd() ? (total.lastCountedEnd - plan.warmEnd()) / 1e9 : 0;
            return new LoadResult(negotiated, total.connects, total.responses, total.ok, total.errors,
                    total.bodyBytes, seconds, total.latency, options.rate(),
                    timed ? total.windowResponses : total.responses, timed ? total.windowBytes : total.bodyBytes);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new RequestFailure(ErrorKind.PROTOCOL, "load run did not stop cleanly: " + e, e);
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
    }
}
