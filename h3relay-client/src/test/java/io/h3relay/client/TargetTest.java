package io.h3relay.client;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TargetTest {
    @Test
    void parsesWhatARequestNeeds() {
        Target t = Target.parse("https://example.test:8443/a%20b?q=1&r");
        assertThat(t.tls()).isTrue();
        assertThat(t.host()).isEqualTo("example.test");
        assertThat(t.port()).isEqualTo(8443);
        assertThat(t.authority()).isEqualTo("example.test:8443");
        assertThat(t.pathAndQuery()).isEqualTo("/a%20b?q=1&r");
        assertThat(t.withPort(9443).authority()).isEqualTo("example.test:9443");

        Target d = Target.parse("http://[::1]");
        assertThat(d.host()).isEqualTo("::1");
        assertThat(d.port()).isEqualTo(80);
        assertThat(d.authority()).isEqualTo("[::1]");
        assertThat(d.pathAndQuery()).isEqualTo("/");
    }

    @Test
    void rejectsWhatItCannotSendTo() {
        assertThatThrownBy(() -> Target.parse("ftp://x/")).hasMessageContaining("expected: http or https");
        assertThatThrownBy(() -> Target.parse("https:///path")).hasMessageContaining("no host");
        assertThatThrownBy(() -> Target.parse("http://a b/")).hasMessageContaining("not a URL");
    }

    @Test
    void preparesTheSameRequestForEveryProtocol() {
        RequestSpec s = new RequestSpec("post", Target.parse("https://h:1/p?x"),
                java.util.List.of(java.util.Map.entry("Connection", "close"), java.util.Map.entry("X-A", "1")), new byte[] {1, 2, 3});
        assertThat(s.http1().toString(java.nio.charset.StandardCharsets.ISO_8859_1))
                .startsWith("POST /p?x HTTP/1.1\r\n").contains("host: h:1\r\n", "X-A: 1\r\n", "content-length: 3\r\n");
        assertThat(s.http2Headers().get(":authority")).hasToString("h:1");
        assertThat(s.http2Headers().contains("connection")).isFalse(); // hop-by-hop: not on h2/h3
        assertThat(s.http3Headers().get("x-a")).hasToString("1");
        assertThat(s.http3Headers().get("content-length")).hasToString("3");
    }
}
