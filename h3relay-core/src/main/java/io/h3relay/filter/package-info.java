/**
 * The filter chain: code that may act on an exchange at fixed phases (request head before and after
 * routing, each upstream request, the response head, body parts), Pingora's phases with Envoy's filter
 * results: continue, respond, or pause until resumed. Chains are compiled per listener and per route at
 * config time; an empty chain costs a length check and allocates nothing. Observers
 * ({@link io.h3relay.exchange.ExchangeObserver}) stay a read-only ring around it.
 */
package io.h3relay.filter;
