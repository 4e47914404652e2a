package io.h3relay.config;

import java.net.InetSocketAddress;

/**
 * An address as written in the config: {@code 0.0.0.0:8443}, {@code :8443} (all interfaces),
 * {@code [::1]:8443}, {@code localhost:9000}. Port 0 asks the OS for a free port (tests).
 */
public record HostPort(String host, int port) {

    /** The host to bind or connect to; an empty host means all interfaces. */
    public InetSocketAddress toSocketAddress() {
        return host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    }

    /** Unresolved form for upstream connects: DNS is resolved by the connector, not at load. */
    public InetSocketAddress toUnresolved() {
        return InetSocketAddress.createUnresolved(host.isEmpty() ? "127.0.0.1" : host, port);
    }

    /** Parses {@code host:port} (port 1-65535) as the config does; null when it is not one. */
    public static HostPort parse(String text) {
        try {
            return Addresses.parse(text, 1);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
