package io.h3relay.policy;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The decisions of every policy of one server, as counters by listener, route, policy and decision (for
 * {@code h3relay_policy_decisions_total}). Lives as long as the server, across config reloads; filters look
 * their counters up once, when they are built, and only increment on the hot path.
 */
public final class PolicyMetrics {
    /** One series' labels. */
    public record Labels(String listener, String route, String policy, String decision) {
    }

    private final Map<Labels, LongAdder> counters = new ConcurrentHashMap<>();

    /** The counter of one series (made on first use). */
    public LongAdder counter(String listener, String route, String policy, String decision) {
        return counters.computeIfAbsent(new Labels(listener, route, policy, decision), l -> new LongAdder());
    }

    /** Every series and its count (read at scrape time). */
    public void forEach(java.util.function.ObjLongConsumer<Labels> each) {
        counters.forEach((l, c) -> each.accept(l, c.sum()));
    }
}
