package io.h3relay.client;

/** The HTTP versions the client speaks, with their ALPN ids and the short names used in output. */
public enum Protocol {
    HTTP_1_1("http/1.1", "h1"),
    HTTP_2("h2", "h2"),
    HTTP_3("h3", "h3");

    private final String alpn;
    private final String shortName;

    Protocol(String alpn, String shortName) {
        this.alpn = alpn;
        this.shortName = shortName;
    }

    public String alpn() {
        return alpn;
    }

    /** {@code h1}, {@code h2} or {@code h3}. */
    public String shortName() {
        return shortName;
    }

    /** What a status line shows: {@code HTTP/1.1}, {@code HTTP/2}, {@code HTTP/3}. */
    public String display() {
        return switch (this) {
            case HTTP_1_1 -> "HTTP/1.1";
            case HTTP_2 -> "HTTP/2";
            case HTTP_3 -> "HTTP/3";
        };
    }
}
