package io.h3relay.exchange;

/**
 * The protocol an exchange arrived on. {@link #metricName()} is the ALPN-style name used in metrics and
 * logs; {@link #viaVersion()} is the received-protocol version written into {@code Via}.
 */
public enum DownstreamProtocol {
    HTTP_1_0("http/1.0", "1.0"),
    HTTP_1_1("http/1.1", "1.1"),
    H2("h2", "2"),
    H3("h3", "3");

    private final String metricName;
    private final String viaVersion;

    DownstreamProtocol(String metricName, String viaVersion) {
        this.metricName = metricName;
        this.viaVersion = viaVersion;
    }

    public String metricName() {
        return metricName;
    }

    public String viaVersion() {
        return viaVersion;
    }

    /** True for protocols where one channel carries one exchange (h2/h3 streams). */
    public boolean isMultiplexed() {
        return this == H2 || this == H3;
    }
}
