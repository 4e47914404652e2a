package io.h3relay.config;

/**
 * The admin listener (HTTP/1.1; plaintext, or TLS with {@code admin.tls}): health, readiness, metrics and
 * the admin API.
 *
 * @param authToken   when set, every changing admin call (POST, PUT, DELETE) needs
 *                    {@code Authorization: Bearer TOKEN}; required for a non-loopback address
 * @param watchConfig reload when the config file changes (debounced)
 * @param grafanaUrl  a Grafana dashboard the control center links to, or null
 * @param tls         TLS on the admin listener (the same block as a listener's {@code tls}), or null: plaintext
 */
public record AdminConfig(HostPort address, String authToken, boolean watchConfig, String grafanaUrl,
                          TlsServerConfig tls) {
    public static final HostPort DEFAULT_ADDRESS = new HostPort("127.0.0.1", 9901);

    public AdminConfig(HostPort address) {
        this(address, null, false, null, null);
    }

    public AdminConfig(HostPort address, String authToken, boolean watchConfig, String grafanaUrl) {
        this(address, authToken, watchConfig, grafanaUrl, null);
    }

    /** {@code https} with {@code admin.tls}, else {@code http}. */
    public String scheme() {
        return tls == null ? "http" : "https";
    }

    /** Whether the address is reachable only from this host (127.0.0.0/8, ::1, localhost). */
    public boolean loopbackOnly() {
        String h = address.host();
        return h.equals("localhost") || h.startsWith("127.") || h.equals("::1");
    }
}
