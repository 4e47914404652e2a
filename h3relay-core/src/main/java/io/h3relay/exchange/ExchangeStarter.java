package io.h3relay.exchange;

/** Makes the exchange of each new request on a session (the proxy's forwarding pipeline). */
@FunctionalInterface
public interface ExchangeStarter {
    DownstreamExchange newExchange(DownstreamSession session);
}
