package io.h3relay.client;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;

/**
 * Where a request goes, parsed once from a URL: scheme, host, port, the authority to send and the
 * path with its query. Only {@code http} and {@code https} URLs with a host are accepted.
 */
public record Target(URI uri, boolean tls, String host, int port, String authority, String pathAndQuery) {

    public static Target parse(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(url + ": not a URL (" + e.getReason() + ")");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException(url + ": scheme (expected: http or https)");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException(url + ": no host (expected: " + scheme + "://HOST[:PORT]/PATH)");
        }
        boolean tls = scheme.equals("https");
        int defaultPort = tls ? 443 : 80;
        int port = uri.getPort() > 0 ? uri.getPort() : defaultPort;
        String host = uri.getHost();
        // getHost() keeps IPv6 brackets; the socket address wants them off, the authority on.
        String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        String authority = port == defaultPort ? host : host + ":" + port;
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        String pathAndQuery = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
        return new Target(uri, tls, bare, port, authority, pathAndQuery);
    }

    /** The same origin at another port (an Alt-Svc advertisement such as {@code h3=":8443"}). */
    public Target withPort(int newPort) {
        int defaultPort = tls ? 443 : 80;
        String h = host.contains(":") ? "[" + host + "]" : host;
        return new Target(uri, tls, host, newPort, newPort == defaultPort ? h : h + ":" + newPort, pathAndQuery);
    }

    /** Resolves the host now (blocking): done once per connection, before any timing starts. */
    public InetSocketAddress resolve() {
        return new InetSocketAddress(host, port);
    }

    /** {@code host:port}, the key for connection reuse. */
    public String origin() {
        return (tls ? "https://" : "http://") + host + ":" + port;
    }

    @Override
    public String toString() {
        return uri.toString();
    }
}
