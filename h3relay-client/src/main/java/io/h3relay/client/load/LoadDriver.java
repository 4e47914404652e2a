package io.h3relay.client.load;

import io.h3relay.client.Cancellable;
import io.h3relay.client.ClientConnection;
import io.h3relay.client.Connector;
import io.h3relay.client.RequestFailure;
import io.h3relay.client.ResponseListener;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Drives one connection of a load run; every field is touched only on its event loop, so no locks.
 *
 * <pre>
 *   closed loop: a slot sends its next request as soon as its previous one ended (C x S in flight)
 *   open model : request j of the run is due at t0 + j / rate; this driver owns every j ≡ index (mod C);
 *                due requests wait in a queue for a free slot, and their latency counts from when they
 *                were due, not from when a slot became free (coordinated-omission correction)
 * </pre>
 *
 * A closed or failed connection is replaced (with backoff after repeated failures), so a run survives
 * an endpoint that resets or restarts; each failed connect counts as an error.
 */
final class LoadDriver {
    private static final long SWEEP_MS = 100;

    private final LoadPlan plan;
    private final int index;
    private final EventLoop loop;
    private final Connector connector;
    final LoadStats stats = new LoadStats();
    private final ArrayDeque<Request> inFlight = new ArrayDeque<>();   // in send order, for timeouts
    private final ArrayDeque<long[]> due = new ArrayDeque<>();         // open model: {intendedNanos, counted}
    private ClientConnection connection;
    private boolean connecting;
    private int connectFailures;
    private int active;            // requests sent and not ended
    private long nextIndex;        // open model: next request index this driver owns
    private boolean issuing = true;
    private boolean finished;
    private boolean flushPending;
    private final Runnable flushTask = this::flushNow;
    /** gRPC requests: a response counts as ok only with grpc-status 0. */
    private final boolean grpc;

    LoadDriver(LoadPlan plan, int index, EventLoop loop, Connector connector) {
        this.plan = plan;
        this.index = index;
        this.loop = loop;
        this.connector = connector;
        this.nextIndex = index;
        this.grpc = plan.request().isGrpc();
    }

    EventLoop loop() {
        return loop;
    }

    /** The connection opened before the clock starts (null when that failed: {@link #start} retries). */
    void adopt(ClientConnection c) {
        stats.connects++;
        use(c);
    }

    void start() {
        loop.scheduleAtFixedRate(this::sweep, SWEEP_MS, SWEEP_MS, TimeUnit.MILLISECONDS);
        if (connection == null) {
            connect();
        }
        if (plan.openModel()) {
            tick();
        } else {
            issue();
        }
    }

    void closeConnection() {
        if (connection != null) {
            connection.close();
        }
        issuing = false;
    }

    // ------------------------------------------------------------------ sending

    /** Closed loop: fill every free slot. */
    private void issue() {
        while (issuing && usable() && active < slots()) {
            long now = System.nanoTime();
            int decision = plan.admitClosed(now);
            if (decision == LoadPlan.STOP) {
                stopIssuing();
                return;
            }
            send(now, now, decision == LoadPlan.COUNT);
        }
    }

    /** Open model: queue what has come due, send what fits, and wake up when the next one is due. */
    private void tick() {
        long now = System.nanoTime();
        while (issuing) {
            long at = plan.intendedNanos(nextIndex);
            if (at > now) {
                loop.schedule(this::tick, at - now, TimeUnit.NANOSECONDS);
                break;
            }
            int decision = plan.admitOpen(nextIndex, at);
            if (decision == LoadPlan.STOP) {
                stopIssuing();
                break;
            }
            due.add(new long[] {at, decision == LoadPlan.COUNT ? 1 : 0});
            nextIndex += plan.connections();
        }
        sendDue();
    }

    private void sendDue() {
        while (!due.isEmpty() && usable() && active < slots()) {
            long[] d = due.poll();
            send(d[0], System.nanoTime(), d[1] == 1);
        }
        checkFinished();
    }

    private void send(long latencyFrom, long sentAt, boolean counted) {
        Request r = new Request(latencyFrom, sentAt, counted);
        active++;
        inFlight.add(r);
        r.handle = connection.send(plan.request(), r);
        if (!flushPending) {
            // One flush after everything this event-loop turn sent: the requests leave in one write.
            flushPending = true;
            loop.execute(flushTask);
        }
    }

    private void flushNow() {
        flushPending = false;
        if (connection != null) {
            connection.flush();
        }
    }

    private int slots() {
        return Math.min(plan.slots(connection.protocol()), Math.max(1, connection.maxConcurrent()));
    }

    /** True when a request can go now; otherwise starts replacing a closed or spent connection. */
    private boolean usable() {
        if (connection != null && connection.isUsable()) {
            return true;
        }
        if (connection != null && active == 0) {
            // Closed, or going away (GOAWAY, Connection: close) with nothing left in flight: replace it.
            ClientConnection old = connection;
            connection = null;
            old.close();
        }
        if (connection == null) {
            connect();
        }
        return false;
    }

    private void next() {
        if (plan.openModel()) {
            sendDue();
        } else {
            issue();
            checkFinished();
        }
    }

    // ------------------------------------------------------------------ connections

    private void connect() {
        if (connecting || finished || !issuing && due.isEmpty()) {
            return;
        }
        connecting = true;
        Future<ClientConnection> f = connector.connect(loop, plan.target(), plan.protocol());
        f.addListener(x -> {
            connecting = false;
            if (f.isSuccess()) {
                connectFailures = 0;
                stats.connects++;
                use(f.getNow());
                next();
                return;
            }
            RequestFailure failure = RequestFailure.classify(f.cause(), io.h3relay.client.ErrorKind.CONNECT);
            // A failed connect stands for the request it could not carry: counted as an error, and in
            // a run of N requests it uses one of the N, so a target that stays down still ends the run.
            long now = System.nanoTime();
            if (!plan.openModel() && issuing) {
                int decision = plan.admitClosed(now);
                if (decision == LoadPlan.COUNT) {
                    countEnd(now);
                    stats.error(failure.kind().label());
                } else if (decision == LoadPlan.STOP) {
                    stopIssuing();
                }
            } else if (plan.openModel() && plan.counting(now)) {
                stats.error(failure.kind().label());
            }
            connectFailures++;
            long delayMs = Math.min(1000, 5L << Math.min(8, connectFailures));
            loop.schedule(this::connect, delayMs, TimeUnit.MILLISECONDS);
            checkFinished();
        });
    }

    private void use(ClientConnection c) {
        connection = c;
        c.closeFuture().addListener(x -> loop.execute(() -> {
            if (connection == c) {
                connection = null;
                if (!finished) {
                    connect();
                }
            }
        }));
    }

    // ------------------------------------------------------------------ timeouts and the end

    /** Every 100 ms: fail requests past the timeout (queued ones too), notice the end of the run. */
    private void sweep() {
        long now = System.nanoTime();
        long limit = plan.timeoutNanos();
        while (!inFlight.isEmpty() && (inFlight.peek().ended || now - inFlight.peek().sentAt > limit)) {
            Request r = inFlight.poll();
            if (!r.ended) {
                r.handle.cancel(); // ends it as a timeout through onFailure
            }
        }
        while (!due.isEmpty() && now - due.peek()[0] > limit) {
            long[] d = due.poll();
            if (d[1] == 1) {
                countEnd(now);
                stats.error("timeout");
            }
        }
        if (issuing && !plan.openModel() && plan.admitClosedPeek(now) == LoadPlan.STOP) {
            stopIssuing();
        }
        if (!plan.openModel()) {
            issue();
        } else {
            sendDue();
        }
        checkFinished();
    }

    private void stopIssuing() {
        issuing = false;
    }

    private void checkFinished() {
        if (!finished && !issuing && active == 0 && due.isEmpty()) {
            finished = true;
            plan.driverFinished();
        }
    }

    private void countEnd(long now) {
        stats.counted++;
        stats.lastCountedEnd = Math.max(stats.lastCountedEnd, now);
    }

    /** One request in flight: the listener of its response. */
    private final class Request implements ResponseListener {
        final long latencyFrom;
        final long sentAt;
        final boolean counted;
        Cancellable handle;
        int status;
        boolean ended;

        Request(long latencyFrom, long sentAt, boolean counted) {
            this.latencyFrom = latencyFrom;
            this.sentAt = sentAt;
            this.counted = counted;
        }

        /** gRPC: the status of a trailers-only response (in the head), else null. */
        String grpcStatus;

        @Override
        public void onHead(int status, HeaderList headers) {
            this.status = status;
            if (grpc) {
                grpcStatus = headers.get("grpc-status");
            }
        }

        @Override
        public void onData(ByteBuf data) {
            if (counted) {
                stats.bodyBytes += data.readableBytes();
                if (System.nanoTime() < plan.end()) {
                    stats.windowBytes += data.readableBytes();
                }
            }
        }

        @Override
        public void onComplete(List<Map.Entry<String, String>> trailers) {
            if (end()) {
                long now = System.nanoTime();
                if (counted) {
                    countEnd(now);
                    stats.responses++;
                    if (now < plan.end()) {
                        stats.windowResponses++;
                    }
                    String failedGrpc = grpc && status < 400 ? grpcFailure(trailers) : null;
                    if (failedGrpc != null) {
                        stats.error(failedGrpc);
                    } else if (status < 400) {
                        stats.ok++;
                        stats.latency.recordValue(Math.min(LoadStats.MAX_MICROS, Math.max(0, (now - latencyFrom) / 1000)));
                    } else {
                        stats.error("status_" + status);
                    }
                }
                next();
            }
        }

        @Override
        public void onFailure(RequestFailure failure) {
            if (end()) {
                if (counted) {
                    countEnd(System.nanoTime());
                    stats.error(failure.kind().label());
                }
                next();
            }
        }

        /** A gRPC call that did not end with grpc-status 0: {@code grpc_status_N}, or {@code grpc_no_status}. */
        private String grpcFailure(List<Map.Entry<String, String>> trailers) {
            String s = grpcStatus;
            for (Map.Entry<String, String> t : trailers) {
                if (t.getKey().equalsIgnoreCase("grpc-status")) {
                    s = t.getValue();
                }
            }
            if (s == null) {
                return "grpc_no_status";
            }
            s = s.trim();
            return s.equals("0") ? null : "grpc_status_" + s;
        }

        private boolean end() {
            if (ended) {
                return false;
            }
            ended = true;
            active--;
            return true;
        }
    }
}
