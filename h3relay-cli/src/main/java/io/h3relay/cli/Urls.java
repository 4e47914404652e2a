package io.h3relay.cli;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/** URLs a user can paste, for the addresses the banners print. */
final class Urls {
    private Urls() {
    }

    /**
     * {@code scheme://host:port} for a bound address: a wildcard address becomes {@code localhost} (what the
     * self-signed certificates are made for), an IPv6 address is bracketed without its zone.
     */
    static String of(String scheme, InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        String host;
        if (ip == null) {
            host = address.getHostString();
        } else if (ip.isAnyLocalAddress()) {
            host = "localhost";
        } else if (ip instanceof Inet6Address) {
            String text = ip.getHostAddress();
            int zone = text.indexOf('%');
            host = "[" + (zone < 0 ? text : text.substring(0, zone)) + "]";
        } else {
            host = ip.getHostAddress();
        }
        return scheme + "://" + host + ":" + address.getPort();
    }
}
