package io.h3relay.cluster;

import io.h3relay.config.ClusterConfig;
import io.h3relay.config.HostPort;
import io.h3relay.transport.Transport;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The cluster lifecycle across configs, without traffic: which clusters a prepare keeps, builds and retires;
 * that a retired cluster waits for the exchanges counted on it and no longer than the deadline; that a
 * discarded prepare closes what it built and changes nothing. (Over real sockets: it/RuntimeApplyTest.)
 */
class ClusterManagerTest {
    private final Transport transport = Transport.detect();
    private final EventLoopGroup group = transport.newGroup(2, "cluster-manager-test");

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private static ClusterConfig cluster(String name, int port) {
        return new ClusterConfig(name, ClusterConfig.UpstreamProtocol.HTTP1,
                ClusterConfig.LoadBalancerKind.ROUND_ROBIN, null,
                List.of(new ClusterConfig.EndpointConfig(new HostPort("127.0.0.1", port), 1)), Duration.ofSeconds(1),
                ClusterConfig.Pool.defaults(), null, null, null, null, null);
    }

    @Test
    void keepsEqualConfigsBuildsChangedAndNewOnesRetiresTheRest() throws Exception {
        try (ClusterManager manager = new ClusterManager(transport, group, Duration.ofSeconds(30))) {
            manager.commit(manager.prepare(List.of(cluster("a", 1001), cluster("b", 1002), cluster("c", 1003))));
            Cluster a = manager.clusters().get("a");
            Cluster b = manager.clusters().get("b");
            Cluster c = manager.clusters().get("c");

            // An equal config (a new but equal record, as a reload parses it) keeps the object.
            ClusterManager.Change change = manager.prepare(List.of(cluster("a", 1001), cluster("b", 2002),
                    cluster("d", 1004)));
            assertThat(change.kept()).containsExactly("a");
            assertThat(change.built()).extracting(Cluster::name).containsExactly("b", "d");
            assertThat(change.retired()).containsExactlyInAnyOrder(b, c);
            assertThat(change.added(manager.clusters())).containsExactly("d");
            assertThat(manager.clusters()).as("nothing changes before commit").containsOnlyKeys("a", "b", "c");

            manager.commit(change);
            assertThat(manager.clusters()).containsOnlyKeys("a", "b", "d");
            assertThat(manager.clusters().get("a")).isSameAs(a);
            assertThat(manager.clusters().get("b")).isNotSameAs(b);
            await().atMost(Duration.ofSeconds(5)).until(() -> b.state() == Cluster.State.CLOSED
                    && c.state() == Cluster.State.CLOSED);
            assertThat(a.state()).isEqualTo(Cluster.State.ACTIVE);
            assertThat(manager.retiring()).isEmpty();
        }
    }

    @Test
    void aRetiredClusterClosesWhenItsLastExchangeEnds() throws Exception {
        try (ClusterManager manager = new ClusterManager(transport, group, Duration.ofSeconds(30))) {
            manager.commit(manager.prepare(List.of(cluster("a", 1001))));
            Cluster a = manager.clusters().get("a");
            a.exchangeStarted();
            a.exchangeStarted();

            manager.commit(manager.prepare(List.of()));

            await().atMost(Duration.ofSeconds(5)).until(() -> a.state() == Cluster.State.RETIRING);
            assertThat(manager.retiring()).containsExactly(a);
            a.exchangeEnded();
            assertThat(a.state()).isEqualTo(Cluster.State.RETIRING);
            a.exchangeEnded();
            assertThat(a.state()).isEqualTo(Cluster.State.CLOSED);
            assertThat(manager.retiring()).isEmpty();
        }
    }

    @Test
    void aRetiredClusterWhoseExchangesDoNotEndIsClosedAtTheDeadline() throws Exception {
        try (ClusterManager manager = new ClusterManager(transport, group, Duration.ofMillis(300))) {
            manager.commit(manager.prepare(List.of(cluster("a", 1001))));
            Cluster a = manager.clusters().get("a");
            a.exchangeStarted();

            manager.commit(manager.prepare(List.of()));

            await().atMost(Duration.ofSeconds(5)).until(() -> a.state() == Cluster.State.CLOSED);
            assertThat(a.exchangesInFlight()).isEqualTo(1);
        }
    }

    @Test
    void aDiscardedChangeClosesWhatItBuiltAndChangesNothing() throws Exception {
        try (ClusterManager manager = new ClusterManager(transport, group, Duration.ofSeconds(30))) {
            manager.commit(manager.prepare(List.of(cluster("a", 1001))));
            Cluster a = manager.clusters().get("a");

            ClusterManager.Change change = manager.prepare(List.of(cluster("b", 1002)));
            manager.discard(change);

            assertThat(change.built()).singleElement().satisfies(b -> assertThat(b.state()).isEqualTo(Cluster.State.CLOSED));
            assertThat(manager.clusters()).containsOnlyKeys("a");
            assertThat(a.state()).isEqualTo(Cluster.State.ACTIVE);
        }
    }
}
