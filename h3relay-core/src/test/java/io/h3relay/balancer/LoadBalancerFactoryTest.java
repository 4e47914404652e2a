package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.config.ClusterConfig.HashOn;
import io.h3relay.config.ClusterConfig.LoadBalancerKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;

import static io.h3relay.balancer.HashingChecks.BY_USER;
import static io.h3relay.balancer.TestEndpoints.endpoints;
import static io.h3relay.balancer.TestEndpoints.weighted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

class LoadBalancerFactoryTest {

    @Test
    void eachKindBuildsItsAlgorithm() {
        List<Endpoint> all = endpoints(3);

        assertThat(LoadBalancer.roundRobin(all)).isInstanceOf(RoundRobinLoadBalancer.class);
        assertThat(LoadBalancer.weightedRoundRobin(all)).isInstanceOf(WeightedRoundRobinLoadBalancer.class);
        assertThat(LoadBalancer.leastRequest(all)).isInstanceOf(LeastRequestLoadBalancer.class);
        assertThat(LoadBalancer.random(all)).isInstanceOf(RandomLoadBalancer.class);
        assertThat(LoadBalancer.ringHash(all, BY_USER)).isInstanceOf(RingHashLoadBalancer.class);
        assertThat(LoadBalancer.maglev(all, BY_USER)).isInstanceOf(MaglevLoadBalancer.class);
        assertThat(LoadBalancer.create(LoadBalancerKind.MAGLEV, all, BY_USER)).isInstanceOf(MaglevLoadBalancer.class);
    }

    @ParameterizedTest
    @EnumSource(LoadBalancerKind.class)
    void emptySnapshotPicksNull(LoadBalancerKind kind) {
        LoadBalancer balancer = LoadBalancerFactory.create(kind, List.of(), BY_USER);

        assertThat(balancer.pick(PickContext.empty(), Set.of())).isNull();
        assertThat(balancer.pick(HashingChecks.user(1), Set.of())).isNull();
    }

    @Test
    void hashingKindsNeedHashOnEvenWhenEmpty() {
        assertThatNullPointerException().isThrownBy(() -> LoadBalancer.create(LoadBalancerKind.RING_HASH, List.of(), null));
        assertThatNullPointerException().isThrownBy(() -> LoadBalancer.maglev(endpoints(1), null));
        assertThat(LoadBalancer.create(LoadBalancerKind.RANDOM, endpoints(1), null)).isNotNull();
    }

    @Test
    void snapshotIsCopied() {
        List<Endpoint> all = new ArrayList<>(endpoints(2));
        LoadBalancer balancer = LoadBalancer.roundRobin(all);
        all.clear();

        assertThat(balancer.pick(PickContext.empty(), Set.of())).isNotNull();
    }

    @ParameterizedTest
    @EnumSource(LoadBalancerKind.class)
    void concurrentPicksStayInTheSnapshot(LoadBalancerKind kind) throws Exception {
        List<Endpoint> all = weighted(3, 1, 2, 5, 1);
        LoadBalancer balancer = LoadBalancer.create(kind, all, BY_USER);
        int threads = 4;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    start.await();
                    int picked = 0;
                    for (int i = 0; i < 20_000; i++) {
                        ThreadLocalRandom random = ThreadLocalRandom.current();
                        Endpoint endpoint = all.get(random.nextInt(all.size()));
                        // Exchanges start and finish on other loops while we pick: least_request reads these.
                        endpoint.requestStarted();
                        PickContext context = i % 3 == 0 ? PickContext.empty() : HashingChecks.user(random.nextInt(1000));
                        Set<Endpoint> exclude = i % 5 == 0 ? Set.of(endpoint) : Set.of();
                        Endpoint chosen = balancer.pick(context, exclude);
                        endpoint.requestFinished();
                        if (all.contains(chosen) && !exclude.contains(chosen)) {
                            picked++;
                        }
                    }
                    return picked;
                }));
            }
            start.countDown();
            for (Future<Integer> result : results) {
                assertThat(result.get()).isEqualTo(20_000);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(all).allSatisfy(endpoint -> assertThat(endpoint.activeRequests()).isZero());
    }

    @Test
    void hashOnIsIgnoredByNonHashingKinds() {
        HashOn ignored = new HashOn(HashOn.Source.COOKIE, "session");
        assertThat(LoadBalancer.create(LoadBalancerKind.ROUND_ROBIN, endpoints(2), ignored)).isInstanceOf(RoundRobinLoadBalancer.class);
    }
}
