package io.h3relay.headers;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TrustedNamesTest {
    @Test
    void theSharedInstancesAreTrustedAndNothingElse() {
        assertThat(TrustedNames.isTrusted(TrustedNames.X_FORWARDED_PROTO)).isTrue();
        assertThat(TrustedNames.isTrusted(TrustedNames.X_REQUEST_ID)).isTrue();
        assertThat(TrustedNames.isTrusted(HttpHeaderNames.VIA)).isTrue();
        // The same text in another instance (as a decoder makes it) is validated like any other name.
        assertThat(TrustedNames.isTrusted(new AsciiString("x-forwarded-proto"))).isFalse();
        assertThat(TrustedNames.isTrusted("x-request-id")).isFalse();
        assertThat(TrustedNames.isTrusted(HttpHeaderNames.HOST)).isFalse();
    }

    @Test
    void otherNamesAreStillValidated() {
        HttpHeaders h = TrustedNames.factory().newHeaders();
        h.set(TrustedNames.X_FORWARDED_FOR, "192.0.2.1");
        h.add(HttpHeaderNames.VIA, "1.1 h3relay");
        assertThat(h.get("x-forwarded-for")).isEqualTo("192.0.2.1");
        assertThatThrownBy(() -> h.add(new AsciiString("bad name"), "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> h.set("x-forwarded-for\r\nevil", "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> h.add("", "x")).isInstanceOf(IllegalArgumentException.class);
        // Values are checked as before, trusted name or not.
        assertThatThrownBy(() -> h.set(TrustedNames.X_FORWARDED_HOST, "a\r\nb")).isInstanceOf(IllegalArgumentException.class);
    }
}
