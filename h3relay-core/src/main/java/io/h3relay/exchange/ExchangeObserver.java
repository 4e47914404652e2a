package io.h3relay.exchange;


import java.util.List;

/**
 * The phases of the forwarding pipeline, as seen from outside it, read-only (what acts on an exchange is a
 * {@code filter/} Filter): metrics, tracing and the access log are
 * implementations, composed by wrapping ({@link #compose}). One instance watches one exchange (a
 * {@link Factory} makes it when the request head arrives); all calls come on the exchange's event loop, in
 * this order, so an implementation keeps per-exchange state in plain fields and must never block:
 *
 * <pre>
 *   requestReceived ─► routeChosen? ─┬─► upstreamRequest ─► upstreamResponse? ─► attemptEnded ─┐  (per attempt)
 *                                    │   ◄──────────────────── retry ───────────────────────────┘
 *                                    └─► response? ─► complete                         (exactly once)
 * </pre>
 * A phase marked {@code ?} may not happen: no route matched, the endpoint never answered, the client left
 * before any response. {@link #complete} always ends the sequence.
 */
public interface ExchangeObserver {
    /** Phase 1: the request head arrived (before checks and routing). */
    default void requestReceived(ExchangeView exchange) {
    }

    /** Phase 2: a route matched; {@link ExchangeView#route()} is set. Not called for 404/405. */
    default void routeChosen(ExchangeView exchange) {
    }

    /**
     * Phase 3: an attempt picked its endpoint and is about to connect and send its request (filters may still
     * change its headers: observers only watch). Called again for every retry.
     */
    default void upstreamRequest(ExchangeView exchange, AttemptView attempt) {
    }

    /** Phase 4: the endpoint's response head arrived ({@link AttemptView#status()} is set). */
    default void upstreamResponse(ExchangeView exchange, AttemptView attempt) {
    }

    /**
     * The attempt ended: response complete, failed ({@link AttemptView#failure()} says why), or abandoned
     * because the exchange ended first. Exactly once per {@link #upstreamRequest}.
     */
    default void attemptEnded(ExchangeView exchange, AttemptView attempt) {
    }

    /** Phase 5: the response head goes downstream ({@link ExchangeView#status()} is set). */
    default void response(ExchangeView exchange) {
    }

    /**
     * Phase 5b, for an upgrade only: the response opened a tunnel (a WebSocket: h1 101, h2/h3 200 to an
     * extended CONNECT); {@link ExchangeView#isWebSocket()} is true from here. {@link #complete} ends it.
     */
    default void tunnelOpened(ExchangeView exchange) {
    }

    /**
     * Phase 6: the exchange is over (response written, or cut because either side went away); counters,
     * durations and the final status are settled. Exactly once.
     */
    default void complete(ExchangeView exchange) {
    }

    /** Makes the observer of each new exchange; shared by all connections of a listener. */
    @FunctionalInterface
    interface Factory {
        ExchangeObserver newObserver();

        /** Observes nothing. */
        static Factory none() {
            return NONE;
        }

        /** One stateless observer for every exchange (state in the exchange or in thread-safe metrics). */
        static Factory shared(ExchangeObserver observer) {
            return new ComposedObserver.Shared(observer);
        }

        /**
         * Each exchange gets one observer of every factory, called in the given order; when every factory is
         * {@link #shared}, so is the composition (no allocation per exchange).
         */
        static Factory compose(List<Factory> factories) {
            List<Factory> real = factories.stream().filter(f -> f != NONE).toList();
            if (real.isEmpty()) {
                return NONE;
            }
            if (real.size() == 1) {
                return real.get(0);
            }
            if (real.stream().allMatch(f -> f instanceof ComposedObserver.Shared)) {
                return shared(new ComposedObserver(real.stream().map(Factory::newObserver)
                        .toArray(ExchangeObserver[]::new)));
            }
            Factory[] all = real.toArray(Factory[]::new);
            return () -> {
                ExchangeObserver[] observers = new ExchangeObserver[all.length];
                for (int i = 0; i < all.length; i++) {
                    observers[i] = all[i].newObserver();
                }
                return new ComposedObserver(observers);
            };
        }
    }

    /** An observer that forwards every phase to each of {@code observers}, in order. */
    static ExchangeObserver compose(ExchangeObserver... observers) {
        return new ComposedObserver(observers);
    }

    Factory NONE = () -> ComposedObserver.EMPTY;
}
