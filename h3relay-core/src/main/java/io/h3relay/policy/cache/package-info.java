/**
 * The HTTP cache ({@code policies.cache}): an in-memory shared cache after RFC 9111, one store per route
 * (Caffeine, bounded in bytes). {@link io.h3relay.policy.cache.CacheFilter} answers fresh hits in the routed
 * phase (through the filter's respond path), makes concurrent misses of one key wait for the first one's
 * fetch (request coalescing), revalidates stale entries with {@code If-None-Match}/{@code If-Modified-Since}
 * (a 304 refreshes the entry and the client gets it whole), and stores a response while its body streams
 * to the client. {@code Cache-Status} (RFC 9211) and {@code Age} say what happened.
 */
package io.h3relay.policy.cache;
