package io.h3relay.testing;

import io.h3relay.client.h3.Http3HttpClient;

import java.security.cert.X509Certificate;

/**
 * The tests' HTTP/3 client: {@link Http3HttpClient} (main code in h3relay-client, Netty's HTTP/3
 * client behind the {@link java.net.http.HttpClient} API), trusting the test CA.
 */
public final class Http3TestClient extends Http3HttpClient {
    public Http3TestClient(X509Certificate trusted) {
        super(trusted);
    }
}
