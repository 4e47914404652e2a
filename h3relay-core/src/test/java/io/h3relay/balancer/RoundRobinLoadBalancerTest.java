package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.h3relay.balancer.TestEndpoints.endpoints;
import static org.assertj.core.api.Assertions.assertThat;

class RoundRobinLoadBalancerTest {

    @Test
    void picksInSnapshotOrder() {
        List<Endpoint> all = endpoints(3);
        LoadBalancer balancer = new RoundRobinLoadBalancer(all);

        List<Endpoint> picked = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            picked.add(balancer.pick(PickContext.empty(), Set.of()));
        }

        assertThat(picked).containsExactly(all.get(0), all.get(1), all.get(2), all.get(0), all.get(1), all.get(2));
    }

    @Test
    void spreadsExactlyEvenlyAndIgnoresWeights() {
        List<Endpoint> all = TestEndpoints.weighted(1, 5, 9, 2);
        Map<Endpoint, Integer> counts = TestEndpoints.count(new RoundRobinLoadBalancer(all), 4000);

        assertThat(counts).hasSize(4).allSatisfy((endpoint, count) -> assertThat(count).isEqualTo(1000));
    }

    @Test
    void skipsExcludedEndpointsToTheNextInOrder() {
        List<Endpoint> all = endpoints(4);
        LoadBalancer balancer = new RoundRobinLoadBalancer(all);

        for (int i = 0; i < 100; i++) {
            assertThat(balancer.pick(PickContext.empty(), Set.of(all.get(0), all.get(1))))
                    .isIn(all.get(2), all.get(3));
        }
    }

    @Test
    void retriesAwayFromOneEndpointSpreadEvenlyOverTheOthers() {
        // Retries take further turns instead of always going to the excluded endpoint's neighbour.
        List<Endpoint> all = endpoints(4);
        LoadBalancer balancer = new RoundRobinLoadBalancer(all);
        Map<Endpoint, Integer> counts = new java.util.HashMap<>();
        for (int i = 0; i < 300; i++) {
            counts.merge(balancer.pick(PickContext.empty(), Set.of(all.get(0))), 1, Integer::sum);
        }

        assertThat(counts).containsOnlyKeys(all.get(1), all.get(2), all.get(3))
                .allSatisfy((endpoint, count) -> assertThat(count).isEqualTo(100));
    }

    @Test
    void fallsBackToAnExcludedEndpointWhenAllAreExcluded() {
        List<Endpoint> all = endpoints(2);
        LoadBalancer balancer = new RoundRobinLoadBalancer(all);

        assertThat(balancer.pick(PickContext.empty(), Set.copyOf(all))).isIn(all);
    }
}
