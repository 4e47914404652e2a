package io.h3relay.cli.demo;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test traffic for {@code h3relay demo}: a steady {@link #RATE} requests per second through the proxy's
 * plaintext listener (HTTP/1.1, Java's client), so the control center has something to show while an
 * endpoint is stopped and started. Counts what it sent and how it went: a 2xx-4xx answer is ok, a 5xx or
 * a failed exchange is a failure.
 */
public final class DemoTraffic implements AutoCloseable {
    public static final int RATE = 50;
    private final URI target;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "h3relay-demo-traffic");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private ScheduledFuture<?> task;

    public DemoTraffic(URI target) {
        this.target = target;
    }

    public synchronized boolean running() {
        return task != null;
    }

    public synchronized void start() {
        if (task == null) {
            task = timer.scheduleAtFixedRate(this::send, 0, 1_000_000 / RATE, TimeUnit.MICROSECONDS);
        }
    }

    public synchronized void stop() {
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }

    private void send() {
        sent.incrementAndGet();
        client.sendAsync(HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.discarding()).whenComplete((res, e) -> {
                    if (e == null && res.statusCode() < 500) {
                        ok.incrementAndGet();
                    } else {
                        failed.incrementAndGet();
                    }
                });
    }

    public long sent() {
        return sent.get();
    }

    public long ok() {
        return ok.get();
    }

    public long failed() {
        return failed.get();
    }

    @Override
    public void close() {
        stop();
        timer.shutdownNow();
        client.close();
    }
}
