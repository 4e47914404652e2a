package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.h3relay.balancer.TestEndpoints.seeded;
import static io.h3relay.balancer.TestEndpoints.weighted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class RandomLoadBalancerTest {
    private static final int PICKS = 100_000;

    @Test
    void equalWeightsSpreadEvenly() {
        List<Endpoint> all = TestEndpoints.endpoints(5);
        Map<Endpoint, Integer> counts = TestEndpoints.count(new RandomLoadBalancer(all, seeded(1)), PICKS);

        // Expected 20,000 each; a 5% band is > 15 standard deviations wide.
        assertThat(counts).hasSize(5).allSatisfy((e, count) -> assertThat(count).isBetween(19_000, 21_000));
    }

    @Test
    void picksInProportionToWeight() {
        List<Endpoint> all = weighted(1, 2, 7);
        Map<Endpoint, Integer> counts = TestEndpoints.count(new RandomLoadBalancer(all, seeded(2)), PICKS);

        assertThat(counts.get(all.get(0)) / (double) PICKS).isCloseTo(0.1, within(0.01));
        assertThat(counts.get(all.get(1)) / (double) PICKS).isCloseTo(0.2, within(0.01));
        assertThat(counts.get(all.get(2)) / (double) PICKS).isCloseTo(0.7, within(0.01));
    }

    @Test
    void excludedEndpointsAreNotPickedAndTheRestKeepTheirProportions() {
        List<Endpoint> all = weighted(5, 1, 3);
        LoadBalancer balancer = new RandomLoadBalancer(all, seeded(3));

        int second = 0;
        for (int i = 0; i < 40_000; i++) {
            Endpoint picked = balancer.pick(PickContext.empty(), Set.of(all.get(0)));
            assertThat(picked).isNotSameAs(all.get(0));
            if (picked == all.get(1)) {
                second++;
            }
        }
        assertThat(second / 40_000.0).isCloseTo(0.25, within(0.02));
    }

    @Test
    void fallsBackToAnExcludedEndpointWhenAllAreExcluded() {
        List<Endpoint> all = weighted(1, 1);
        LoadBalancer balancer = new RandomLoadBalancer(all, seeded(4));

        assertThat(balancer.pick(PickContext.empty(), Set.copyOf(all))).isIn(all);
    }
}
