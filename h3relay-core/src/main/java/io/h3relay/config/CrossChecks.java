package io.h3relay.config;

import io.h3relay.config.ConfigLoader.Parsed;
import io.h3relay.config.RouteConfig.Forward;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Checks that need more than one section: unique names, references that resolve (listener → route,
 * route → cluster), and listen addresses that can all be bound at once. Runs after every section is
 * parsed, using the lines the parsers remembered.
 */
final class CrossChecks {
    private CrossChecks() {}

    static void run(ParseContext ctx, AdminConfig admin, List<Parsed<ListenerConfig>> listeners,
                    List<Parsed<RouteConfig>> routes, List<Parsed<ClusterConfig>> clusters) {
        uniqueNames(ctx, "listener", listeners, ListenerConfig::name);
        Set<String> routeNames = uniqueNames(ctx, "route", routes, RouteConfig::name);
        Set<String> clusterNames = uniqueNames(ctx, "cluster", clusters, ClusterConfig::name);
        for (Parsed<RouteConfig> r : routes) {
            if (r.value().action() instanceof Forward f && !clusterNames.contains(f.cluster())) {
                String path = r.path() + ".cluster";
                ctx.error(path, ConfigError.quote(f.cluster()), known("cluster", clusterNames), ctx.lineOf(path));
            }
        }
        for (Parsed<ListenerConfig> l : listeners) {
            checkRouteRefs(ctx, l, routeNames);
        }
        checkAddresses(ctx, admin, listeners);
    }

    private static <T> Set<String> uniqueNames(ParseContext ctx, String kind, List<Parsed<T>> items,
                                               Function<T, String> name) {
        Map<String, Integer> first = new HashMap<>();
        for (Parsed<T> item : items) {
            String n = name.apply(item.value());
            if (n == null) {
                continue;
            }
            String path = item.path() + ".name";
            Integer previous = first.putIfAbsent(n, ctx.lineOf(path));
            if (previous != null) {
                ctx.error(path, ConfigError.quote(n), "a unique " + kind + " name; \"" + n
                        + "\" is already used at line " + previous, ctx.lineOf(path));
            }
        }
        return first.keySet();
    }

    private static void checkRouteRefs(ParseContext ctx, Parsed<ListenerConfig> l, Set<String> routeNames) {
        Set<String> seen = new HashSet<>();
        List<String> refs = l.value().routes();
        for (int i = 0; i < refs.size(); i++) {
            String path = l.path() + ".routes[" + i + "]";
            String ref = refs.get(i);
            if (!routeNames.contains(ref)) {
                ctx.error(path, ConfigError.quote(ref), known("route", routeNames), ctx.lineOf(path));
            } else if (!seen.add(ref)) {
                ctx.error(path, ConfigError.quote(ref), "each route once per listener", ctx.lineOf(path));
            }
        }
    }

    private static String known(String kind, Set<String> names) {
        if (names.isEmpty()) {
            return "the name of a " + kind + ", but no " + kind + "s are defined";
        }
        List<String> sorted = new ArrayList<>(names);
        sorted.sort(null);
        return "the name of a " + kind + ": one of " + String.join(", ", sorted);
    }

    /** Two listeners (or a listener and the admin listener) on one port would fail at bind time. */
    private static void checkAddresses(ParseContext ctx, AdminConfig admin, List<Parsed<ListenerConfig>> listeners) {
        List<Parsed<HostPort>> taken = new ArrayList<>();
        taken.add(new Parsed<>("admin.address", admin.address()));
        for (Parsed<ListenerConfig> l : listeners) {
            HostPort a = l.value().address();
            if (a == null) {
                continue;
            }
            String path = l.path() + ".address";
            for (Parsed<HostPort> t : taken) {
                if (Addresses.conflict(a, t.value())) {
                    int line = ctx.lineOf(t.path());
                    ctx.error(path, ConfigError.quote(a.toString()), "an address no other listener uses; "
                            + t.path() + (line > 0 ? " at line " + line : "") + " is " + t.value(), ctx.lineOf(path));
                    break;
                }
            }
            taken.add(new Parsed<>(path, a));
        }
    }
}
