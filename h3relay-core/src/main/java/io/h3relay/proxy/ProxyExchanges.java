package io.h3relay.proxy;

import io.h3relay.exchange.DownstreamExchange;
import io.h3relay.exchange.DownstreamSession;
import io.h3relay.exchange.ExchangeStarter;
import io.h3relay.runtime.ListenerRuntime;

import java.util.function.Supplier;

/**
 * The forwarding pipeline as sessions see it: each new request on a listener becomes an {@link Exchange}
 * over the listener's current {@link ListenerRuntime}, read once here so that the exchange keeps it to the
 * end even if a reload swaps it meanwhile.
 */
public final class ProxyExchanges implements ExchangeStarter {
    private final Supplier<ListenerRuntime> runtime;

    public ProxyExchanges(Supplier<ListenerRuntime> runtime) {
        this.runtime = runtime;
    }

    @Override
    public DownstreamExchange newExchange(DownstreamSession session) {
        return new Exchange(session, runtime.get());
    }
}
