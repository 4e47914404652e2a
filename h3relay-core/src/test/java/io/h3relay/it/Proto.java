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
    H2("https", HttpClient.Version.HTTP_2, "2"),
    /**
     * HTTP/3 over QUIC on the TLS listener's port number, through Netty's HTTP/3 client behind the
     * HttpClient API ({@code Http3TestClient}). The JDK's version enum has no HTTP/3, so responses say
     * HTTP_2; the endpoint's {@code Via: 3 h3relay} is what proves h3 was used.
     */
    H3("https", HttpClient.Version.HTTP_2, "3");

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
