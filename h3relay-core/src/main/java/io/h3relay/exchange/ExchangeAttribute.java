package io.h3relay.exchange;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A typed slot on an exchange, for what one part of the pipeline leaves for another (the tracing observer's
 * upstream trace context for the filter that sends it). Made once, as a constant; the exchange allocates its
 * slots only when the first one is set.
 */
public final class ExchangeAttribute<T> {
    private static final AtomicInteger NEXT = new AtomicInteger();

    private final String name;
    private final int index = NEXT.getAndIncrement();

    private ExchangeAttribute(String name) {
        this.name = name;
    }

    public static <T> ExchangeAttribute<T> of(String name) {
        return new ExchangeAttribute<>(name);
    }

    public int index() {
        return index;
    }

    @Override
    public String toString() {
        return name;
    }
}
