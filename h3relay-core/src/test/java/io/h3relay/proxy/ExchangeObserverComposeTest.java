package io.h3relay.proxy;

import io.h3relay.exchange.ExchangeView;
import io.h3relay.exchange.ExchangeObserver;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Composition of exchange observers: order, and no allocation per exchange when every part is shared. */
class ExchangeObserverComposeTest {
    private static ExchangeObserver recording(List<String> calls, String name) {
        return new ExchangeObserver() {
            @Override
            public void requestReceived(ExchangeView exchange) {
                calls.add(name + ".received");
            }

            @Override
            public void complete(ExchangeView exchange) {
                calls.add(name + ".complete");
            }
        };
    }

    @Test
    void sharedPartsComposeOnceAndCallInOrder() {
        List<String> calls = new ArrayList<>();
        ExchangeObserver.Factory f = ExchangeObserver.Factory.compose(List.of(ExchangeObserver.Factory.none(),
                ExchangeObserver.Factory.shared(recording(calls, "a")),
                ExchangeObserver.Factory.shared(recording(calls, "b"))));
        ExchangeObserver first = f.newObserver();
        assertThat(f.newObserver()).isSameAs(first);
        first.requestReceived(null);
        first.complete(null);
        assertThat(calls).containsExactly("a.received", "b.received", "a.complete", "b.complete");
    }

    @Test
    void aPerExchangePartMakesANewCompositionPerExchange() {
        List<String> calls = new ArrayList<>();
        int[] made = {0};
        ExchangeObserver.Factory perExchange = () -> recording(calls, "p" + made[0]++);
        ExchangeObserver.Factory f = ExchangeObserver.Factory.compose(List.of(perExchange,
                ExchangeObserver.Factory.shared(recording(calls, "s"))));
        ExchangeObserver one = f.newObserver();
        ExchangeObserver two = f.newObserver();
        assertThat(two).isNotSameAs(one);
        one.complete(null);
        two.complete(null);
        assertThat(calls).containsExactly("p0.complete", "s.complete", "p1.complete", "s.complete");
    }
}
