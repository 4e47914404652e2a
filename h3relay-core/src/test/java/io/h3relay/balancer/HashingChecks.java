package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.config.ClusterConfig.HashOn;
import io.h3relay.config.HostPort;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/** Key-movement measurements shared by the ring_hash and maglev tests. */
final class HashingChecks {
    static final HashOn BY_USER = new HashOn(HashOn.Source.HEADER, "x-user");

    private HashingChecks() {
    }

    static PickContext user(int i) {
        return TestEndpoints.header("X-User", "user-" + i);
    }

    /** Where each of {@code keys} keys lands, by endpoint address (stable across rebuilt snapshots). */
    static HostPort[] placement(LoadBalancer balancer, int keys) {
        HostPort[] placed = new HostPort[keys];
        for (int i = 0; i < keys; i++) {
            placed[i] = balancer.pick(user(i), Set.of()).address();
        }
        return placed;
    }

    static Map<HostPort, Integer> shares(HostPort[] placement) {
        Map<HostPort, Integer> shares = new HashMap<>();
        for (HostPort address : placement) {
            shares.merge(address, 1, Integer::sum);
        }
        return shares;
    }

    /** What removing the last of {@code n} endpoints does to {@code keys} keys. */
    record Movement(double movedFraction, int movedBetweenSurvivors, int keysOnSurvivors) {}

    static Movement removeOne(int n, int keys, BiFunction<List<Endpoint>, HashOn, LoadBalancer> factory) {
        List<Endpoint> all = TestEndpoints.endpoints(n);
        HostPort removed = all.get(n - 1).address();
        HostPort[] before = placement(factory.apply(all, BY_USER), keys);
        HostPort[] after = placement(factory.apply(all.subList(0, n - 1), BY_USER), keys);

        int moved = 0;
        int movedBetweenSurvivors = 0;
        int onSurvivors = 0;
        for (int i = 0; i < keys; i++) {
            if (!before[i].equals(after[i])) {
                moved++;
            }
            if (!before[i].equals(removed)) {
                onSurvivors++;
                if (!before[i].equals(after[i])) {
                    movedBetweenSurvivors++;
                }
            }
        }
        return new Movement(moved / (double) keys, movedBetweenSurvivors, onSurvivors);
    }
}
