/**
 * Edge policies: per-route (and per-listener default) {@code policies:} compiled into the route's filter
 * chain by {@link io.h3relay.policy.PolicyChains} in a fixed order: IP rules, CORS preflight,
 * authentication, rate limit, cache, (forward), compression. Each policy lives in a sub-package of its own
 * with its filter; the config records are in {@code io.h3relay.config} (which depends on nothing).
 */
package io.h3relay.policy;
