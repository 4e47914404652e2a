/**
 * Rate limiting: token buckets keyed by client address, a request header, a JWT claim or the route, local
 * (one bucket per key shared by every event loop) or shared through Redis; 429 with the JSON envelope,
 * {@code Retry-After} and the IETF httpapi {@code RateLimit-Policy}/{@code RateLimit} headers.
 */
package io.h3relay.policy.ratelimit;
