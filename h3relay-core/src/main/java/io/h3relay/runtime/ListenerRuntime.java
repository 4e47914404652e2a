package io.h3relay.runtime;

import io.h3relay.config.LimitsConfig;
import io.h3relay.exchange.ExchangeObserver;
import io.h3relay.filter.FilterChain;
import io.h3relay.route.Route;
import io.h3relay.route.RouteTable;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * One listener's part of the runtime: what an exchange needs from its listener, captured once when the
 * exchange starts (one volatile read), so that a reload swapping the runtime never changes an exchange
 * in flight.
 *
 * @param name      the listener's name (metrics, logs)
 * @param tls       https (TLS or QUIC) rather than http
 * @param limits    request limits applied by the exchange
 * @param routes    the compiled route table
 * @param observers makes each exchange's observer (metrics, tracing, access log)
 * @param filters   the listener's filter chain (every phase of every exchange)
 * @param routeFilters per route with filters of its own: the listener's chain followed by the route's,
 *                  compiled at config time; routes without are not in it (they use {@code filters})
 * @param trustedProxies peers whose X-Forwarded-For names the client
 */
public record ListenerRuntime(String name, boolean tls, LimitsConfig limits, RouteTable routes,
                              ExchangeObserver.Factory observers, FilterChain filters,
                              Map<Route, FilterChain> routeFilters, TrustedProxies trustedProxies) {

    public ListenerRuntime {
        routeFilters = routeFilters.isEmpty() ? Map.of() : new IdentityHashMap<>(routeFilters);
    }

    /** Without filters. */
    public ListenerRuntime(String name, boolean tls, LimitsConfig limits, RouteTable routes,
                           ExchangeObserver.Factory observers) {
        this(name, tls, limits, routes, observers, FilterChain.EMPTY, Map.of(), TrustedProxies.NONE);
    }

    /** Without trusted proxies. */
    public ListenerRuntime(String name, boolean tls, LimitsConfig limits, RouteTable routes,
                           ExchangeObserver.Factory observers, FilterChain filters,
                           Map<Route, FilterChain> routeFilters) {
        this(name, tls, limits, routes, observers, filters, routeFilters, TrustedProxies.NONE);
    }

    /** The chain of an exchange once {@code route} matched: the listener's, with the route's own after it. */
    public FilterChain filtersFor(Route route) {
        if (routeFilters.isEmpty()) {
            return filters;
        }
        FilterChain c = routeFilters.get(route);
        return c == null ? filters : c;
    }
}
