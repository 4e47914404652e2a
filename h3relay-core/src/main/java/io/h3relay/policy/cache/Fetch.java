package io.h3relay.policy.cache;

import io.h3relay.filter.FilterContext;
import io.h3relay.filter.FilterResult;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * The one upstream fetch of a key in flight, and the exchanges that missed meanwhile and wait for it
 * (paused in their routed phase). When it ends, each waiter is answered from the store if the fetch stored
 * what it needs, else resumed to go upstream itself; a waiter whose lock timeout passes first goes
 * upstream too. Waiters come from any event loop: the list is guarded by this object.
 */
final class Fetch {
    final String key;
    private final List<Waiter> waiters = new ArrayList<>();
    private boolean ended;

    Fetch(String key) {
        this.key = key;
    }

    /** One paused exchange; {@code requestHeaders} are read only after the pause (nothing writes them then). */
    static final class Waiter {
        final FilterContext ctx;
        final HttpHeaders requestHeaders;
        final boolean head;
        private final AtomicBoolean resumed = new AtomicBoolean();
        /** Answered from the store (set before the resume is handed to the exchange's loop). */
        volatile boolean answered;
        ScheduledFuture<?> timeout;

        Waiter(FilterContext ctx, HttpHeaders requestHeaders, boolean head) {
            this.ctx = ctx;
            this.requestHeaders = requestHeaders;
            this.head = head;
        }

        /** Resumes once (the fetch's end and the lock timeout race). */
        boolean resume(FilterResult result) {
            if (!resumed.compareAndSet(false, true)) {
                if (result instanceof FilterResult.Respond r) {
                    r.response().release();
                }
                return false;
            }
            if (timeout != null) {
                timeout.cancel(false);
            }
            answered = result instanceof FilterResult.Respond;
            ctx.resume(result);
            return true;
        }
    }

    /** Adds a waiter; false when the fetch already ended (look the store up again instead). */
    synchronized boolean add(Waiter w) {
        if (ended) {
            return false;
        }
        waiters.add(w);
        return true;
    }

    /**
     * The fetch ended: each waiter gets what {@code answer} makes for it (a response from the store), or,
     * when it makes null, goes upstream.
     */
    void end(Function<Waiter, FullHttpResponse> answer) {
        List<Waiter> ws;
        synchronized (this) {
            if (ended) {
                return;
            }
            ended = true;
            ws = new ArrayList<>(waiters);
            waiters.clear();
        }
        for (Waiter w : ws) {
            FullHttpResponse res = answer == null ? null : answer.apply(w);
            w.resume(res == null ? FilterResult.CONTINUE : FilterResult.respond(res));
        }
    }
}
