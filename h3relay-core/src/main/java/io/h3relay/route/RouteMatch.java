package io.h3relay.route;

import java.util.Set;

/** The route table's answer for one request. */
public sealed interface RouteMatch {

    record Found(Route route) implements RouteMatch {}

    /** Some route matched everything but the method: answer 405 with {@code Allow}. */
    record MethodNotAllowed(Set<String> allow) implements RouteMatch {}

    record NotFound() implements RouteMatch {}

    /** A WebSocket upgrade whose first matching route says {@code websocket: false}: answer 403. */
    record UpgradeNotAllowed(Route route) implements RouteMatch {}
}
