package io.h3relay.route;

import java.util.List;
import java.util.Locale;

/**
 * Matches the Host header / :authority against a route's hosts: exact names, {@code *.suffix} for any
 * subdomain, {@code *} for anything. The port is ignored. Compiled once per route at config time.
 */
final class HostMatcher {
    private final String[] exact;
    private final String[] suffixes; // ".example.com" for "*.example.com"
    private final boolean any;

    HostMatcher(List<String> hosts) {
        this.any = hosts.isEmpty() || hosts.contains("*");
        this.exact = hosts.stream().filter(h -> !h.startsWith("*")).map(h -> h.toLowerCase(Locale.ROOT))
                .toArray(String[]::new);
        this.suffixes = hosts.stream().filter(h -> h.startsWith("*.")).map(h -> h.substring(1).toLowerCase(Locale.ROOT))
                .toArray(String[]::new);
    }

    /** {@code host} is already lower-cased and stripped of its port (see {@link #normalize}). */
    boolean matches(String host) {
        if (any) {
            return true;
        }
        if (host == null) {
            return false;
        }
        for (String e : exact) {
            if (e.equals(host)) {
                return true;
            }
        }
        for (String s : suffixes) {
            if (host.length() > s.length() && host.endsWith(s)) {
                return true;
            }
        }
        return false;
    }

    /** Lower-cases a Host value and removes its port: {@code API.example.com:8443} → {@code api.example.com}. */
    static String normalize(String hostHeader) {
        if (hostHeader == null || hostHeader.isEmpty()) {
            return null;
        }
        String h = hostHeader;
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            h = end > 0 ? h.substring(0, end + 1) : h;
        } else {
            int colon = h.lastIndexOf(':');
            if (colon >= 0 && h.indexOf(':') == colon) {
                h = h.substring(0, colon);
            }
        }
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        return h.toLowerCase(Locale.ROOT);
    }
}
