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
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

class RingHashLoadBalancerTest {
    private static final int KEYS = 50_000;

    private static RingHashLoadBalancer ring(List<Endpoint> endpoints, HashOn hashOn) {
        return new RingHashLoadBalancer(endpoints, hashOn, seeded(7));
    }

    @Test
    void sameKeyAlwaysLandsOnTheSameEndpointEvenAfterARebuild() {
        List<Endpoint> all = endpoints(6);
        HostPort[] first = HashingChecks.placement(ring(all, BY_USER), 1000);
        assertThat(HashingChecks.placement(ring(all, BY_USER), 1000)).containsExactly(first);

        // New Endpoint objects with the same addresses, in another order: same placement.
        List<Endpoint> rebuilt = new ArrayList<>(endpoints(6));
        Collections.reverse(rebuilt);
        assertThat(HashingChecks.placement(ring(rebuilt, BY_USER), 1000)).containsExactly(first);
    }

    @Test
    void spreadsKeysRoughlyEvenly() {
        Map<HostPort, Integer> shares = HashingChecks.shares(HashingChecks.placement(ring(endpoints(10), BY_USER), KEYS));

        assertThat(shares).hasSize(10).allSatisfy((address, count) -> assertThat(count).isBetween(3_000, 7_000));
    }

    @ParameterizedTest
    @ValueSource(ints = {5, 10})
    void removingAnEndpointMovesOnlyItsOwnKeys(int n) {
        HashingChecks.Movement movement = HashingChecks.removeOne(n, KEYS, RingHashLoadBalancerTest::ring);

        assertThat(movement.movedFraction()).isBetween(0.5 / n, 1.6 / n);
        assertThat(movement.movedBetweenSurvivors()).isZero();
    }

    @Test
    void respectsWeights() {
        List<Endpoint> all = weighted(1, 2, 3, 4);
        Map<HostPort, Integer> shares = HashingChecks.shares(HashingChecks.placement(ring(all, BY_USER), KEYS));

        for (Endpoint endpoint : all) {
            double expected = KEYS * endpoint.weight() / 10.0;
            assertThat(shares.get(endpoint.address()) / expected).isBetween(0.75, 1.25);
        }
        assertThat(ring(all, BY_USER).ringSize()).isEqualTo(10 * RingHashLoadBalancer.POINTS_PER_WEIGHT);
    }

    @Test
    void retriesWalkOnToTheNextUntriedEndpoint() {
        List<Endpoint> all = endpoints(5);
        RingHashLoadBalancer balancer = ring(all, BY_USER);
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
        // A failing endpoint's keys spread over the others rather than all landing on one neighbour.
        assertThat(retryTargets).hasSize(5);
        assertThat(balancer.pick(user(1), Set.copyOf(all))).isSameAs(balancer.pick(user(1), Set.of()));
    }

    @Test
    void requestsWithoutKeyArePickedAtRandom() {
        List<Endpoint> all = endpoints(4);
        Map<Endpoint, Integer> counts = TestEndpoints.count(ring(all, BY_USER), 4000);

        assertThat(counts).hasSize(4).allSatisfy((e, count) -> assertThat(count).isBetween(700, 1300));
        assertThat(ring(all, BY_USER).pick(TestEndpoints.header("X-User", ""), Set.of())).isIn(all);
    }

    @Test
    void hashesCookiesAndSourceAddresses() {
        List<Endpoint> all = endpoints(8);
        RingHashLoadBalancer byCookie = ring(all, new HashOn(HashOn.Source.COOKIE, "session"));
        RingHashLoadBalancer byIp = ring(all, new HashOn(HashOn.Source.SOURCE_IP, null));
        Set<Endpoint> cookieTargets = new HashSet<>();
        Set<Endpoint> ipTargets = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            Endpoint byC = byCookie.pick(TestEndpoints.cookie("session", "s" + i), Set.of());
            Endpoint byS = byIp.pick(TestEndpoints.source("192.0.2." + i), Set.of());
            assertThat(byCookie.pick(TestEndpoints.cookie("session", "s" + i), Set.of())).isSameAs(byC);
            assertThat(byIp.pick(TestEndpoints.source("192.0.2." + i), Set.of())).isSameAs(byS);
            cookieTargets.add(byC);
            ipTargets.add(byS);
        }
        assertThat(cookieTargets).hasSize(8);
        assertThat(ipTargets).hasSize(8);
    }

    @Test
    void needsHashOn() {
        assertThatNullPointerException().isThrownBy(() -> ring(endpoints(2), null));
        assertThatNullPointerException().isThrownBy(() -> ring(endpoints(2), new HashOn(HashOn.Source.HEADER, null)));
    }
}
