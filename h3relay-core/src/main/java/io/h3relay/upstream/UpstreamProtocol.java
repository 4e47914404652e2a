package io.h3relay.upstream;

/** The protocol an {@link UpstreamStream} speaks to its endpoint; {@link #alpn()} names it in metrics and logs. */
public enum UpstreamProtocol {
    HTTP_1_1("http/1.1"),
    /** HTTP/2 over TLS (ALPN h2). */
    HTTP_2("h2"),
    /** HTTP/2 over cleartext TCP, by prior knowledge. */
    H2C("h2c");

    private final String alpn;

    UpstreamProtocol(String alpn) {
        this.alpn = alpn;
    }

    public String alpn() {
        return alpn;
    }
}
