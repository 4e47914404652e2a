package io.h3relay.cluster;

import io.h3relay.config.ClusterConfig;
import io.h3relay.tls.TlsConfigException;
import io.h3relay.transport.Transport;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Owns the clusters of a running server across config changes. {@link #prepare} builds the cluster set of a
 * new config: a cluster whose {@link ClusterConfig} is equal to the running one's is kept (the same object,
 * with its warm pools, health, outlier and breaker state), a new or changed one is built fresh (not started
 * yet). The caller swaps its runtime, then {@link #commit}s: new clusters start their checks, replaced and
 * removed ones retire (checks stop now, pools close once their exchanges in flight end, or at the retire
 * deadline at the latest). {@link #discard} undoes a prepare that is not applied.
 *
 * <pre>
 *   prepare(configs) ──► Change { clusters (kept + built), built, retired }
 *        swap the runtime that points at change.clusters()
 *   commit(change)   ──► built: start;  retired: after a task on every loop, retire()
 * </pre>
 *
 * Prepare/commit/discard are called by one thread at a time (the server's apply lock); {@link #clusters}
 * may be read from any thread.
 */
public final class ClusterManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterManager.class);

    private final Transport transport;
    private final EventLoopGroup group;
    /** Every group exchanges run on ({@link #group} first): a retirement waits for each of their loops. */
    private final List<? extends EventLoopGroup> exchangeGroups;
    private final Duration retireDeadline;
    private volatile Map<String, Cluster> current = Map.of();
    /** Retired clusters whose pools may still be open (closed with everything on {@link #close}). */
    private final Set<Cluster> retiring = ConcurrentHashMap.newKeySet();
    private final io.h3relay.events.EventLog events;

    /**
     * @param group          the event loops exchanges run on (checks run there too)
     * @param retireDeadline how long a retired cluster's exchanges in flight may keep its pools open
     */
    public ClusterManager(Transport transport, EventLoopGroup group, Duration retireDeadline) {
        this(transport, group, retireDeadline, null);
    }

    /** @param events where clusters publish health transitions (may be null) */
    public ClusterManager(Transport transport, EventLoopGroup group, Duration retireDeadline,
                          io.h3relay.events.EventLog events) {
        this(transport, List.of(group), retireDeadline, events);
    }

    /**
     * @param groups the event loop groups exchanges run on; checks run on the first (the TCP loops; under
     *               io_uring the HTTP/3 listeners' epoll loops are the second)
     */
    public ClusterManager(Transport transport, List<? extends EventLoopGroup> groups, Duration retireDeadline,
                          io.h3relay.events.EventLog events) {
        this.events = events;
        this.transport = transport;
        this.group = groups.get(0);
        this.exchangeGroups = List.copyOf(groups);
        this.retireDeadline = retireDeadline;
    }

    /** The clusters in service, by name, in config order (an unmodifiable snapshot). */
    public Map<String, Cluster> clusters() {
        return current;
    }

    /** What applying a cluster list changes. */
    public record Change(Map<String, Cluster> clusters, List<Cluster> built, List<Cluster> retired,
                         List<String> kept) {
        public Change {
            clusters = Collections.unmodifiableMap(new LinkedHashMap<>(clusters));
            built = List.copyOf(built);
            retired = List.copyOf(retired);
            kept = List.copyOf(kept);
        }

        /** Names of the clusters built for a config that had none of that name. */
        public List<String> added(Map<String, Cluster> before) {
            return built.stream().map(Cluster::name).filter(n -> !before.containsKey(n)).toList();
        }
    }

    /**
     * Builds the cluster set of {@code configs} against the clusters in service; nothing changes until
     * {@link #commit}. On failure the clusters built so far are closed.
     */
    public Change prepare(List<ClusterConfig> configs) throws TlsConfigException {
        Map<String, Cluster> before = current;
        Map<String, Cluster> next = new LinkedHashMap<>();
        List<Cluster> built = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        try {
            for (ClusterConfig cc : configs) {
                Cluster old = before.get(cc.name());
                if (old != null && old.config().equals(cc)) {
                    next.put(cc.name(), old);
                    kept.add(cc.name());
                } else {
                    Cluster c = Cluster.create(cc, transport);
                    c.events(events);
                    if (old != null) {
                        c.inheritHealth(old); // endpoints whose address stays keep their health
                    }
                    built.add(c);
                    next.put(cc.name(), c);
                }
            }
        } catch (TlsConfigException | RuntimeException e) {
            built.forEach(Cluster::close);
            throw e;
        }
        List<Cluster> retired = before.values().stream().filter(c -> next.get(c.name()) != c).toList();
        return new Change(next, built, retired, kept);
    }

    /**
     * Puts a prepared change in service; call right after the runtime pointing at its clusters was swapped in.
     * New clusters start their checks; replaced and removed ones retire once every event loop has run a task
     * past this point (an exchange reads its runtime and counts itself on its cluster in one task, so after
     * that no exchange can start on a retired cluster, and the in-flight count is final).
     */
    public void commit(Change change) {
        current = change.clusters();
        change.built().forEach(c -> c.start(group));
        for (Cluster c : change.retired()) {
            retiring.add(c);
            c.stopChecks(); // now; its pools stay open for exchanges that may still be starting on it
        }
        if (change.retired().isEmpty()) {
            return;
        }
        List<Future<?>> barrier = io.h3relay.transport.LoopBarrier.submit(exchangeGroups);
        Runnable afterBarrier = () -> change.retired().forEach(this::watch);
        whenAllDone(barrier, afterBarrier);
    }

    /** Closes a retired cluster's pools when its exchanges are done, or at the deadline at the latest. */
    private void watch(Cluster c) {
        c.retire(); // no exchange can start on it any more: closes at once when none is in flight
        if (c.state() == Cluster.State.CLOSED) {
            retiring.remove(c);
            LOG.info("cluster {} ({}): retired with no exchange in flight", c.name(), id(c));
            return;
        }
        LOG.info("cluster {} ({}): retired; {} exchange(s) in flight keep its pools until they end (at most {})",
                c.name(), id(c), c.exchangesInFlight(), retireDeadline);
        group.next().schedule(() -> {
            if (c.state() != Cluster.State.CLOSED) {
                LOG.warn("cluster {} ({}): {} exchange(s) still in flight {} after it was retired; closing its pools",
                        c.name(), id(c), c.exchangesInFlight(), retireDeadline);
                c.close();
            }
            retiring.remove(c);
        }, retireDeadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static String id(Cluster c) {
        return Integer.toHexString(System.identityHashCode(c));
    }

    private static void whenAllDone(List<Future<?>> futures, Runnable then) {
        if (futures.isEmpty()) {
            then.run();
            return;
        }
        int[] left = {futures.size()};
        for (Future<?> f : futures) {
            f.addListener(x -> {
                boolean last;
                synchronized (left) {
                    last = --left[0] == 0;
                }
                if (last) {
                    then.run();
                }
            });
        }
    }

    /** Closes clusters built by a prepare that will not be applied. */
    public void discard(Change change) {
        change.built().forEach(Cluster::close);
    }

    /** Retired clusters whose pools are still open (those closed since by their last exchange are dropped). */
    public Collection<Cluster> retiring() {
        retiring.removeIf(c -> c.state() == Cluster.State.CLOSED);
        return List.copyOf(retiring);
    }

    /** Closes every cluster, in service or retiring (stop). */
    @Override
    public void close() {
        current.values().forEach(Cluster::close);
        retiring.forEach(Cluster::close);
        retiring.clear();
    }
}
