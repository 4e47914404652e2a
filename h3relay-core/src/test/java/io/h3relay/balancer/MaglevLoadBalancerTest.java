package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.config.ClusterConfig.HashOn;
import io.h3relay.config.HostPort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.h3relay.balancer.HashingChecks.BY_USER;
import static io.h3relay.balancer.HashingChecks.user;
import static io.h3relay.balancer.TestEndpoints.endpoints;
import static io.h3relay.balancer.TestEndpoints.seeded;
import static io.h3relay.balancer.TestEndpoints.weighted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;
import static org.assertj.core.api.Assertions.within;

class MaglevLoadBalancerTest {
    private static final int KEYS = 50_000;

    private static MaglevLoadBalancer maglev(List<Endpoint> endpoints, HashOn hashOn) {
        return new MaglevLoadBalancer(endpoints, hashOn, seeded(7));
    }

    @Test
    void sameKeyAlwaysLandsOnTheSameEndpointEvenAfterARebuild() {
        List<Endpoint> all = endpoints(6);
        HostPort[] first = HashingChecks.placement(maglev(all, BY_USER), 1000);
        assertThat(HashingChecks.placement(maglev(all, BY_USER), 1000)).containsExactly(first);

        List<Endpoint> rebuilt = new ArrayList<>(endpoints(6));
        Collections.reverse(rebuilt);
        assertThat(HashingChecks.placement(maglev(rebuilt, BY_USER), 1000)).containsExactly(first);
    }

    @Test
    void tableIsPrimeAndSlotsAreSharedAlmostExactly() {
        List<Endpoint> all = endpoints(7);
        MaglevLoadBalancer balancer = maglev(all, BY_USER);

        assertThat(balancer.tableSize()).isEqualTo(MaglevLoadBalancer.DEFAULT_TABLE_SIZE);
        for (Endpoint endpoint : all) {
            assertThat(balancer.slotsOf(endpoint)).isCloseTo(65537 / 7, within(2));
        }
        assertThat(MaglevLoadBalancer.tableSizeFor(1000)).isGreaterThanOrEqualTo(100_000);
        assertThatIllegalArgumentException().isThrownBy(() -> new MaglevLoadBalancer(all, BY_USER, seeded(1), 65536));
    }

    @Test
    void spreadsKeysRoughlyEvenly() {
        Map<HostPort, Integer> shares = HashingChecks.shares(HashingChecks.placement(maglev(endpoints(10), BY_USER), KEYS));

        assertThat(shares).hasSize(10).allSatisfy((address, count) -> assertThat(count).isBetween(4_000, 6_000));
    }

    @ParameterizedTest
    @ValueSource(ints = {5, 10})
    void removingAnEndpointMovesAboutOneNthOfKeys(int n) {
        HashingChecks.Movement movement = HashingChecks.removeOne(n, KEYS, MaglevLoadBalancerTest::maglev);

        assertThat(movement.movedFraction()).isBetween(0.5 / n, 1.6 / n);
        // Unlike a ring, Maglev shifts a few survivors' keys too; the paper's bound is a few percent.
        assertThat(movement.movedBetweenSurvivors() / (double) movement.keysOnSurvivors()).isLessThan(0.05);
    }

    @Test
    void respectsWeights() {
        List<Endpoint> all = weighted(1, 2, 3, 4);
        MaglevLoadBalancer balancer = maglev(all, BY_USER);
        Map<HostPort, Integer> shares = HashingChecks.shares(HashingChecks.placement(balancer, KEYS));

        for (Endpoint endpoint : all) {
            assertThat(balancer.slotsOf(endpoint) / 65537.0).isCloseTo(endpoint.weight() / 10.0, within(0.005));
            assertThat(shares.get(endpoint.address()) / (KEYS * endpoint.weight() / 10.0)).isBetween(0.9, 1.1);
        }
    }

    @Test
    void retriesTakeTheNextSlotsUntriedEndpoint() {
        List<Endpoint> all = endpoints(5);
        MaglevLoadBalancer balancer = maglev(all, BY_USER);
        Set<Endpoint> retryTargets = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            Endpoint primary = balancer.pick(user(i), Set.of());
            Endpoint retry = balancer.pick(user(i), Set.of(primary));
            assertThat(retry).isNotSameAs(primary).isSameAs(balancer.pick(user(i), Set.of(primary)));
            retryTargets.add(retry);
            Set<Endpoint> allButOne = new HashSet<>(all);
            allButOne.remove(all.get(i % 5));
            assertThat(balancer.pick(user(i), allButOne)).isSameAs(all.get(i % 5));
        }
        assertThat(retryTargets).hasSize(5);
        assertThat(balancer.pick(user(1), Set.copyOf(all))).isSameAs(balancer.pick(user(1), Set.of()));
    }

    @Test
    void requestsWithoutKeyArePickedAtRandom() {
        List<Endpoint> all = endpoints(4);
        Map<Endpoint, Integer> counts = TestEndpoints.count(maglev(all, BY_USER), 4000);

        assertThat(counts).hasSize(4).allSatisfy((e, count) -> assertThat(count).isBetween(700, 1300));
    }

    @Test
    void hashesSourceAddresses() {
        List<Endpoint> all = endpoints(8);
        MaglevLoadBalancer byIp = maglev(all, new HashOn(HashOn.Source.SOURCE_IP, null));
        Set<Endpoint> targets = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            Endpoint picked = byIp.pick(TestEndpoints.source("2001:db8::" + Integer.toHexString(i)), Set.of());
            assertThat(byIp.pick(TestEndpoints.source("2001:db8::" + Integer.toHexString(i)), Set.of())).isSameAs(picked);
            targets.add(picked);
        }
        assertThat(targets).hasSize(8);
    }

    @Test
    void needsHashOn() {
        assertThatNullPointerException().isThrownBy(() -> maglev(endpoints(2), null));
    }
}
