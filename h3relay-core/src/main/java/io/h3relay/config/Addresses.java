package io.h3relay.config;

import java.util.Locale;
import java.util.regex.Pattern;

/** Parsing of {@code host:port} addresses and validation of host names as they appear in the config. */
final class Addresses {
    static final String EXPECTED = "host:port, e.g. 0.0.0.0:8443";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?"
            + "(\\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\\.?");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9]+)?");

    private Addresses() {}

    /** Expected text for an address whose port must be at least {@code minPort}. */
    static String expected(int minPort) {
        return minPort == 0 ? EXPECTED : "host:port with port " + minPort + "-65535, e.g. 127.0.0.1:9000";
    }

    /**
     * {@code host:port}, {@code :port} (all interfaces), {@code [v6]:port}; null when malformed or the port
     * is out of {@code minPort}-65535. The host is not resolved: DNS belongs to connect time.
     */
    static HostPort parse(String text, int minPort) {
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            return null;
        }
        String host = text.substring(0, colon);
        String port = text.substring(colon + 1);
        if (!port.matches("[0-9]{1,5}")) {
            return null;
        }
        int p = Integer.parseInt(port);
        if (p < minPort || p > 65535) {
            return null;
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            String v6 = host.substring(1, host.length() - 1);
            return IPV6.matcher(v6).matches() ? new HostPort(v6, p) : null;
        }
        if (!host.isEmpty() && !NAME.matcher(host).matches()) {
            return null;
        }
        return new HostPort(host, p);
    }

    /** True when the text ends in a numeric port outside {@code minPort}-65535 (the rest may be fine). */
    static boolean hasPortOutOfRange(String text, int minPort) {
        int colon = text.lastIndexOf(':');
        String port = colon < 0 ? "" : text.substring(colon + 1);
        if (!port.matches("[0-9]{1,9}")) {
            return false;
        }
        int p = Integer.parseInt(port);
        return p < minPort || p > 65535;
    }

    /** True for a DNS name, an IPv4 address or a bracketed IPv6 address, without a port. */
    static boolean isHostName(String host) {
        if (host.startsWith("[") && host.endsWith("]")) {
            return IPV6.matcher(host.substring(1, host.length() - 1)).matches();
        }
        return NAME.matcher(host).matches();
    }

    /**
     * A host pattern for route matching, lowercased: {@code *} (any), {@code *.example.com} (any subdomain)
     * or an exact name. Null when invalid.
     */
    static String hostPattern(String text) {
        String h = text.toLowerCase(Locale.ROOT);
        if (h.equals("*")) {
            return h;
        }
        String exact = h.startsWith("*.") ? h.substring(2) : h;
        return isHostName(exact) ? h : null;
    }

    /** True when two listen addresses cannot both be bound: same port, same or wildcard host. */
    static boolean conflict(HostPort a, HostPort b) {
        if (a.port() == 0 || a.port() != b.port()) {
            return false;
        }
        return a.host().equalsIgnoreCase(b.host()) || isWildcard(a.host()) || isWildcard(b.host());
    }

    private static boolean isWildcard(String host) {
        return host.isEmpty() || host.equals("0.0.0.0") || host.equals("::");
    }
}
