package io.h3relay.server;

import io.h3relay.config.ListenerConfig;
import io.h3relay.config.RelayConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which listeners a reload adds and removes. A listener of the new config with no running listener of its name
 * is added; a running one with no listener of its name in the new config is removed (drained, see
 * {@link ListenerRetirement}); one whose {@code address}, {@code protocols} or TLS-or-not changed is replaced:
 * removed and added, the new one bound on its address before the old one stops accepting. A replacement on the
 * very same address (a fixed port) is not done in place: the running socket holds the port, so it needs a
 * restart ({@link #sameAddressReplacements}).
 */
record ListenerChanges(List<ListenerConfig> added, List<ListenerConfig> removed) {
    static ListenerChanges plan(RelayConfig running, RelayConfig next) {
        Map<String, ListenerConfig> before = byName(running.listeners());
        Map<String, ListenerConfig> after = byName(next.listeners());
        List<ListenerConfig> added = new ArrayList<>();
        List<ListenerConfig> removed = new ArrayList<>();
        for (ListenerConfig old : before.values()) {
            ListenerConfig now = after.get(old.name());
            if (now == null || replaced(old, now)) {
                removed.add(old);
            }
        }
        for (ListenerConfig now : after.values()) {
            ListenerConfig old = before.get(now.name());
            if (old == null || replaced(old, now)) {
                added.add(now);
            }
        }
        return new ListenerChanges(List.copyOf(added), List.copyOf(removed));
    }

    /** Settings a listener cannot change in place: it is replaced (removed and added) instead. */
    static boolean replaced(ListenerConfig old, ListenerConfig now) {
        return !old.address().equals(now.address()) || !old.protocols().equals(now.protocols())
                || old.isTls() != now.isTls();
    }

    /**
     * Replacements that would bind the address the running listener holds (same host and a fixed port): these
     * need a restart, one line each.
     */
    static List<String> sameAddressReplacements(RelayConfig running, RelayConfig next) {
        Map<String, ListenerConfig> after = byName(next.listeners());
        List<String> out = new ArrayList<>();
        for (ListenerConfig old : running.listeners()) {
            ListenerConfig now = after.get(old.name());
            if (now != null && replaced(old, now) && old.address().equals(now.address())
                    && old.address().toSocketAddress().getPort() != 0) {
                out.add("listeners[" + old.name() + "]: protocols or tls changed on the same address "
                        + old.address() + " (its socket holds the port: a restart, or a new address)");
            }
        }
        return out;
    }

    boolean isEmpty() {
        return added.isEmpty() && removed.isEmpty();
    }

    private static Map<String, ListenerConfig> byName(List<ListenerConfig> listeners) {
        Map<String, ListenerConfig> m = new LinkedHashMap<>();
        listeners.forEach(l -> m.put(l.name(), l));
        return m;
    }
}
