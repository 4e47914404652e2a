package io.h3relay.transport;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;

import java.util.ArrayList;
import java.util.List;

/**
 * A barrier across event loops: an empty task on every loop (not shutting down) of the given groups, whose futures
 * are done once each loop has run everything queued before it. A runtime change (a retired cluster, a drained
 * endpoint) is published first; when all are done, no exchange can still pick up the old state.
 */
public final class LoopBarrier {
    private LoopBarrier() {
    }

    /** One future per live loop of {@code groups} (a server's TCP loops and, under io_uring, its QUIC loops). */
    public static List<Future<?>> submit(List<? extends EventLoopGroup> groups) {
        List<Future<?>> barrier = new ArrayList<>();
        for (EventLoopGroup g : groups) {
            for (EventExecutor loop : g) {
                if (!loop.isShuttingDown()) {
                    barrier.add(loop.submit(() -> { }));
                }
            }
        }
        return barrier;
    }
}
