/**
 * The activity log of a running server: health transitions, ejections, breaker trips, reloads, endpoint
 * drains and HTTP/3 toggles, as {@link io.h3relay.events.Event}s with an increasing id, kept in a ring of the
 * last 1,000 ({@link io.h3relay.events.EventLog}) and pushed to subscribers (admin {@code GET /events},
 * Server-Sent Events). It imports nothing of the proxy, so any package may publish into it.
 */
package io.h3relay.events;
