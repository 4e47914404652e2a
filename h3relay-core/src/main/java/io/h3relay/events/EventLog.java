package io.h3relay.events;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The last {@link #CAPACITY} events of a server, with ids increasing from 1, and the subscribers that get
 * each new one. Publishing is rare (state changes, not requests): one lock, and the subscribers are called
 * on the publishing thread, so they must only hand the event on (the admin listener writes it on the
 * subscriber's own event loop).
 */
public final class EventLog {
    private static final Logger LOG = LoggerFactory.getLogger(EventLog.class);
    public static final int CAPACITY = 1000;

    private final ArrayDeque<Event> ring = new ArrayDeque<>(CAPACITY);
    private final List<Consumer<Event>> subscribers = new CopyOnWriteArrayList<>();
    private long lastId;

    /** Records an event and hands it to every subscriber. */
    public Event publish(String type, Map<String, Object> details) {
        Event e;
        synchronized (this) {
            e = new Event(++lastId, Instant.now(), type, details);
            if (ring.size() == CAPACITY) {
                ring.removeFirst();
            }
            ring.addLast(e);
            // Delivered under the lock, so each subscriber sees the events in id order.
            for (Consumer<Event> s : subscribers) {
                try {
                    s.accept(e);
                } catch (RuntimeException ex) {
                    LOG.warn("event subscriber failed: {}", ex.toString());
                }
            }
        }
        return e;
    }

    /** The kept events with an id above {@code id} (all kept ones for 0), oldest first. */
    public synchronized List<Event> since(long id) {
        List<Event> out = new ArrayList<>();
        for (Event e : ring) {
            if (e.id() > id) {
                out.add(e);
            }
        }
        return out;
    }

    /**
     * Subscribes: {@code backlog} gets the kept events after {@code sinceId} and then {@code subscriber} every
     * new one, with nothing lost or repeated in between. Returns the handle to {@link #unsubscribe}.
     */
    public synchronized Consumer<Event> subscribe(long sinceId, Consumer<List<Event>> backlog, Consumer<Event> subscriber) {
        backlog.accept(since(sinceId));
        subscribers.add(subscriber);
        return subscriber;
    }

    public void unsubscribe(Consumer<Event> subscriber) {
        subscribers.remove(subscriber);
    }

    public synchronized long lastId() {
        return lastId;
    }
}
