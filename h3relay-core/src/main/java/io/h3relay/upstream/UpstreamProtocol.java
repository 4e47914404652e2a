package io.h3relay.upstream;

/** The protocol an {@link UpstreamStream} speaks to its endpoint; {@link #alpn()} names it in metrics and logs. */
public enum UpstreamProtocol {
    HTTP_1_1("http/1.1", "1.1"),
    /** HTTP/2 over TLS (ALPN h2). */
    HTTP_2("h2", "2"),
    /** HTTP/2 over cleartext TCP, by prior knowledge. */
    H2C("h2c", "2"),
    /** HTTP/3 over QUIC. */
    HTTP_3("h3", "3");

    private final String alpn;
    private final String version;

    UpstreamProtocol(String alpn, String version) {
        this.alpn = alpn;
        this.version = version;
    }

    /** The HTTP version as traces name it ({@code network.protocol.version}): {@code 1.1}, {@code 2}. */
    public String version() {
        return version;
    }

    public String alpn() {
        return alpn;
    }
}
