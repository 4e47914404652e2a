package io.h3relay.upstream;

/** The protocol an {@link UpstreamStream} speaks to its endpoint; {@link #alpn()} names it in metrics and logs. */
public enum UpstreamProtocol {
    HTTP_1_1("http/1.1");

    private final String alpn;

    UpstreamProtocol(String alpn) {
        this.alpn = alpn;
    }

    public String alpn() {
        return alpn;
    }
}
