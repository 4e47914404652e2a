package io.h3relay.config;

/** A downstream protocol a listener serves; config names in {@link #configName()}. */
public enum Protocol {
    HTTP1("http1"), HTTP2("http2"), H2C("h2c"), HTTP3("http3");

    private final String configName;

    Protocol(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static Protocol fromConfigName(String name) {
        for (Protocol p : values()) {
            if (p.configName.equals(name)) {
                return p;
            }
        }
        return null;
    }
}
