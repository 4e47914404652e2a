package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.config.HostPort;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/** Endpoints, pick contexts and seeded randomness for balancer tests. */
final class TestEndpoints {

    private TestEndpoints() {
    }

    /** {@code n} endpoints of weight 1: 10.0.0.1:8080, 10.0.0.2:8080, … */
    static List<Endpoint> endpoints(int n) {
        int[] weights = new int[n];
        java.util.Arrays.fill(weights, 1);
        return weighted(weights);
    }

    static List<Endpoint> weighted(int... weights) {
        List<Endpoint> list = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            list.add(new Endpoint(new HostPort("10.0.0." + (i + 1), 8080), weights[i]));
        }
        return list;
    }

    /** A seeded generator for single-threaded tests: the same draws every run. */
    static Supplier<RandomGenerator> seeded(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        return () -> random;
    }

    static Map<Endpoint, Integer> count(LoadBalancer balancer, int picks) {
        Map<Endpoint, Integer> counts = new HashMap<>();
        for (int i = 0; i < picks; i++) {
            counts.merge(balancer.pick(PickContext.empty(), java.util.Set.of()), 1, Integer::sum);
        }
        return counts;
    }

    static void load(Endpoint endpoint, int activeRequests) {
        for (int i = 0; i < activeRequests; i++) {
            endpoint.requestStarted();
        }
    }

    static PickContext header(String name, String value) {
        return new Context(Map.of(name.toLowerCase(java.util.Locale.ROOT), value), Map.of(), null);
    }

    static PickContext cookie(String name, String value) {
        return new Context(Map.of(), Map.of(name, value), null);
    }

    static PickContext source(String ip) {
        try {
            return new Context(Map.of(), Map.of(), InetAddress.getByName(ip));
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(ip, e);
        }
    }

    private record Context(Map<String, String> headers, Map<String, String> cookies, InetAddress source)
            implements PickContext {
        @Override
        public String header(String name) {
            return headers.get(name.toLowerCase(java.util.Locale.ROOT));
        }

        @Override
        public String cookie(String name) {
            return cookies.get(name);
        }

        @Override
        public InetAddress sourceAddress() {
            return source;
        }
    }
}
