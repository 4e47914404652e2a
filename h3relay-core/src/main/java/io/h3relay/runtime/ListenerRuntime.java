package io.h3relay.runtime;

import io.h3relay.config.LimitsConfig;
import io.h3relay.exchange.ExchangeObserver;
import io.h3relay.route.RouteTable;

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
 */
public record ListenerRuntime(String name, boolean tls, LimitsConfig limits, RouteTable routes,
                              ExchangeObserver.Factory observers) {
}
