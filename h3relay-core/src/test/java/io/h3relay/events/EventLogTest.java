package io.h3relay.events;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The activity log keeps the last 1,000 events, numbers them from 1, and hands subscribers the rest in order. */
class EventLogTest {
    @Test
    void keepsTheLastThousandAndAnswersSince() {
        EventLog log = new EventLog();
        for (int i = 0; i < 1500; i++) {
            log.publish("t", Map.of("i", i));
        }
        List<Event> all = log.since(0);
        assertThat(all).hasSize(EventLog.CAPACITY);
        assertThat(all.get(0).id()).isEqualTo(501);
        assertThat(all.get(999).id()).isEqualTo(1500);
        assertThat(log.since(1498)).extracting(Event::id).containsExactly(1499L, 1500L);
        assertThat(log.since(1500)).isEmpty();
        assertThat(log.lastId()).isEqualTo(1500);
    }

    @Test
    void aSubscriberGetsTheBacklogThenEachNewEventWithNothingLostOrRepeated() {
        EventLog log = new EventLog();
        log.publish("a", Map.of());
        log.publish("b", Map.of());
        List<Long> seen = new ArrayList<>();
        var handle = log.subscribe(1, backlog -> backlog.forEach(e -> seen.add(e.id())), e -> seen.add(e.id()));
        log.publish("c", Map.of());
        log.unsubscribe(handle);
        log.publish("d", Map.of());
        assertThat(seen).containsExactly(2L, 3L);
    }

    @Test
    void rendersOneLineOfJsonWithEscapes() {
        Event e = new EventLog().publish("health", new java.util.LinkedHashMap<>(Map.of("reason", "a \"b\"\nc")));
        assertThat(e.toJson()).startsWith("{\"id\":1,\"time\":\"").contains("\"type\":\"health\"",
                "\"reason\":\"a \\\"b\\\"\\nc\"").doesNotContain("\n");
    }
}
