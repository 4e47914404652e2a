package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.h3relay.balancer.TestEndpoints.endpoints;
import static io.h3relay.balancer.TestEndpoints.load;
import static io.h3relay.balancer.TestEndpoints.seeded;
import static io.h3relay.balancer.TestEndpoints.weighted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LeastRequestLoadBalancerTest {
    private static final int PICKS = 100_000;

    @Test
    void idleEqualEndpointsShareEvenly() {
        List<Endpoint> all = endpoints(4);
        Map<Endpoint, Integer> counts = TestEndpoints.count(new LeastRequestLoadBalancer(all, seeded(1)), PICKS);

        assertThat(counts).hasSize(4).allSatisfy((e, count) -> assertThat(count).isBetween(23_750, 26_250));
    }

    @Test
    void idleWeightedEndpointsSharePerWeight() {
        List<Endpoint> all = weighted(1, 3);
        Map<Endpoint, Integer> counts = TestEndpoints.count(new LeastRequestLoadBalancer(all, seeded(2)), PICKS);

        assertThat(counts.get(all.get(1)) / (double) PICKS).isCloseTo(0.75, within(0.01));
    }

    @Test
    void neverPicksTheSingleBusiestEndpoint() {
        // Two distinct choices: the busiest one always loses to the other candidate.
        List<Endpoint> all = endpoints(5);
        load(all.get(2), 10);
        Map<Endpoint, Integer> counts = TestEndpoints.count(new LeastRequestLoadBalancer(all, seeded(3)), PICKS);

        assertThat(counts).doesNotContainKey(all.get(2));
    }

    @Test
    void rarelyPicksBusyEndpoints() {
        // Two busy of five: a busy one wins only when both candidates are busy, 2/5 * 1/4 = 10% of picks
        // (40% under plain random).
        List<Endpoint> all = endpoints(5);
        load(all.get(0), 8);
        load(all.get(1), 9);
        Map<Endpoint, Integer> counts = TestEndpoints.count(new LeastRequestLoadBalancer(all, seeded(4)), PICKS);

        int busy = counts.getOrDefault(all.get(0), 0) + counts.getOrDefault(all.get(1), 0);
        assertThat(busy / (double) PICKS).isCloseTo(0.10, within(0.015));
        // And between the two busy ones, the less busy wins every such duel.
        assertThat(counts.getOrDefault(all.get(1), 0)).isZero();
    }

    @Test
    void comparesLoadPerUnitOfWeight() {
        // 4 active on weight 4 is less loaded than 2 active on weight 1.
        List<Endpoint> all = weighted(4, 1);
        load(all.get(0), 4);
        load(all.get(1), 2);
        Map<Endpoint, Integer> counts = TestEndpoints.count(new LeastRequestLoadBalancer(all, seeded(5)), 1000);

        assertThat(counts).containsOnlyKeys(all.get(0));
    }

    @Test
    void retriesAvoidExcludedEndpoints() {
        List<Endpoint> all = endpoints(4);
        load(all.get(3), 5);
        LoadBalancer balancer = new LeastRequestLoadBalancer(all, seeded(6));

        for (int i = 0; i < 1000; i++) {
            // Untried: 2 (idle) and 3 (busy): the idle one always wins.
            assertThat(balancer.pick(PickContext.empty(), Set.of(all.get(0), all.get(1)))).isSameAs(all.get(2));
            // Only 3 untried: it is picked though busy.
            assertThat(balancer.pick(PickContext.empty(), Set.of(all.get(0), all.get(1), all.get(2))))
                    .isSameAs(all.get(3));
        }
        assertThat(balancer.pick(PickContext.empty(), Set.copyOf(all))).isIn(all);
    }

    @Test
    void singleEndpointIsAlwaysPicked() {
        List<Endpoint> all = endpoints(1);
        LoadBalancer balancer = new LeastRequestLoadBalancer(all, seeded(7));

        assertThat(balancer.pick(PickContext.empty(), Set.of(all.get(0)))).isSameAs(all.get(0));
    }
}
