package io.h3relay.it;

import java.net.http.HttpClient;

/**
 * The downstream protocols an integration test runs over. Each test that is about behaviour (routing,
 * limits, errors, forwarding) is parameterized over all of them, so parity is tested, not assumed.
 */
public enum Proto {
    /** HTTP/1.1 over TLS (ALPN http/1.1). */
    H1("https", HttpClient.Version.HTTP_1_1, "1.1"),
    /** HTTP/2 over TLS (ALPN h2). */
    H2("https", HttpClient.Version.HTTP_2, "2");

    final String scheme;
    final HttpClient.Version version;
    /** What the proxy writes into Via for this protocol. */
    final String via;

    Proto(String scheme, HttpClient.Version version, String via) {
        this.scheme = scheme;
        this.version = version;
        this.via = via;
    }
}
