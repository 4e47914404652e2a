package io.h3relay.exchange;


/** Calls each observer in turn; the wrapping behind {@link ExchangeObserver#compose}. */
final class ComposedObserver implements ExchangeObserver {
    static final ExchangeObserver EMPTY = new ExchangeObserver() {
    };

    private final ExchangeObserver[] observers;

    /** The factory behind {@link ExchangeObserver.Factory#shared}. */
    record Shared(ExchangeObserver observer) implements ExchangeObserver.Factory {
        @Override
        public ExchangeObserver newObserver() {
            return observer;
        }
    }

    ComposedObserver(ExchangeObserver[] observers) {
        this.observers = observers.clone();
    }

    @Override
    public void requestReceived(ExchangeView exchange) {
        for (ExchangeObserver o : observers) {
            o.requestReceived(exchange);
        }
    }

    @Override
    public void routeChosen(ExchangeView exchange) {
        for (ExchangeObserver o : observers) {
            o.routeChosen(exchange);
        }
    }

    @Override
    public void upstreamRequest(ExchangeView exchange, AttemptView attempt) {
        for (ExchangeObserver o : observers) {
            o.upstreamRequest(exchange, attempt);
        }
    }

    @Override
    public void upstreamResponse(ExchangeView exchange, AttemptView attempt) {
        for (ExchangeObserver o : observers) {
            o.upstreamResponse(exchange, attempt);
        }
    }

    @Override
    public void attemptEnded(ExchangeView exchange, AttemptView attempt) {
        for (ExchangeObserver o : observers) {
            o.attemptEnded(exchange, attempt);
        }
    }

    @Override
    public void response(ExchangeView exchange) {
        for (ExchangeObserver o : observers) {
            o.response(exchange);
        }
    }

    @Override
    public void tunnelOpened(ExchangeView exchange) {
        for (ExchangeObserver o : observers) {
            o.tunnelOpened(exchange);
        }
    }

    @Override
    public void complete(ExchangeView exchange) {
        for (ExchangeObserver o : observers) {
            o.complete(exchange);
        }
    }
}
