package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.h3relay.balancer.TestEndpoints.seeded;
import static io.h3relay.balancer.TestEndpoints.weighted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class WeightedRoundRobinLoadBalancerTest {

    @Test
    void followsNginxSmoothSequence() {
        List<Endpoint> all = weighted(5, 1, 1);
        Endpoint a = all.get(0);
        Endpoint b = all.get(1);
        Endpoint c = all.get(2);

        assertThat(picks(balancer(all), 14)).containsExactly(a, a, b, a, c, a, a, a, a, b, a, c, a, a);
    }

    @Test
    void givesExactProportionsOverWholeCycles() {
        List<Endpoint> all = weighted(3, 2, 1, 4);
        Map<Endpoint, Integer> counts = TestEndpoints.count(balancer(all), 10 * 100);

        assertThat(counts.get(all.get(0))).isEqualTo(300);
        assertThat(counts.get(all.get(1))).isEqualTo(200);
        assertThat(counts.get(all.get(2))).isEqualTo(100);
        assertThat(counts.get(all.get(3))).isEqualTo(400);
    }

    @Test
    void interleavesInsteadOfBursting() {
        // Plain weighted round robin would send 5 in a row to a; the smooth one never more than 2 inside a
        // cycle, 4 across the seam between cycles.
        List<Endpoint> all = weighted(5, 1, 1);
        assertThat(maxRun(picks(balancer(all), 7))).isEqualTo(2);
        assertThat(maxRun(picks(balancer(all), 700))).isEqualTo(4);

        // Every prefix of the sequence stays within one pick of the exact share.
        List<Endpoint> mixed = weighted(7, 3, 2, 1, 1);
        List<Endpoint> sequence = picks(balancer(mixed), 14 * 3);
        for (Endpoint endpoint : mixed) {
            int picked = 0;
            for (int t = 1; t <= sequence.size(); t++) {
                if (sequence.get(t - 1) == endpoint) {
                    picked++;
                }
                assertThat((double) picked).isCloseTo(t * endpoint.weight() / 14.0, within(1.0));
            }
        }
    }

    @Test
    void reducesWeightsByTheirGcd() {
        WeightedRoundRobinLoadBalancer balancer = new WeightedRoundRobinLoadBalancer(weighted(10, 20, 30), seeded(1));

        assertThat(balancer.cycleLength()).isEqualTo(6);
    }

    @Test
    void scalesHugeWeightsIntoABoundedCycle() {
        List<Endpoint> all = weighted(1_000_000, 999_999, 1);
        WeightedRoundRobinLoadBalancer balancer = new WeightedRoundRobinLoadBalancer(all, seeded(1));

        assertThat(balancer.cycleLength()).isLessThanOrEqualTo(WeightedRoundRobinLoadBalancer.MAX_CYCLE);
        Map<Endpoint, Integer> counts = TestEndpoints.count(balancer, balancer.cycleLength());
        // The light endpoint keeps one slot per cycle; the heavy two stay close to 1:1.
        assertThat(counts.get(all.get(2))).isEqualTo(1);
        assertThat(counts.get(all.get(0)) / (double) counts.get(all.get(1))).isCloseTo(1.0, within(0.01));
    }

    @Test
    void retriesAvoidExcludedEndpointsAndKeepTheOthersProportions() {
        List<Endpoint> all = weighted(5, 1, 3);
        LoadBalancer balancer = new WeightedRoundRobinLoadBalancer(all, seeded(2));

        int third = 0;
        int retries = 0;
        for (int i = 0; i < 90_000; i++) {
            Endpoint picked = balancer.pick(PickContext.empty(), Set.of(all.get(0)));
            assertThat(picked).isNotSameAs(all.get(0));
            third += picked == all.get(2) ? 1 : 0;
            retries++;
        }
        assertThat(third / (double) retries).isCloseTo(0.75, within(0.02));
    }

    @Test
    void fallsBackToAnExcludedEndpointWhenAllAreExcluded() {
        List<Endpoint> all = weighted(2, 1);
        LoadBalancer balancer = new WeightedRoundRobinLoadBalancer(all, seeded(3));

        assertThat(balancer.pick(PickContext.empty(), Set.copyOf(all))).isIn(all);
    }

    private static WeightedRoundRobinLoadBalancer balancer(List<Endpoint> all) {
        return new WeightedRoundRobinLoadBalancer(all, seeded(0));
    }

    private static List<Endpoint> picks(LoadBalancer balancer, int count) {
        List<Endpoint> picked = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            picked.add(balancer.pick(PickContext.empty(), Set.of()));
        }
        return picked;
    }

    private static int maxRun(List<Endpoint> sequence) {
        int max = 0;
        int run = 0;
        for (int i = 0; i < sequence.size(); i++) {
            run = i > 0 && sequence.get(i) == sequence.get(i - 1) ? run + 1 : 1;
            max = Math.max(max, run);
        }
        return max;
    }
}
