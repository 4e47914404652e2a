package io.h3relay.listener.h3;

import io.netty.handler.codec.http3.DefaultHttp3Headers;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** RFC 9220 / RFC 8441 section 4: {@code :protocol} belongs to CONNECT only; the h3 guard refuses it elsewhere. */
class Http3ExtendedConnectGuardTest {

    @Test
    void protocolPseudoHeaderOnlyWithConnect() {
        var connect = new DefaultHttp3Headers().method("CONNECT").scheme("https").authority("example.com")
                .path("/chat");
        connect.protocol("websocket");
        assertThat(Http3MalformedRequestGuard.problem(new DefaultHttp3HeadersFrame(connect))).isNull();

        var get = new DefaultHttp3Headers().method("GET").scheme("https").authority("example.com").path("/chat");
        get.protocol("websocket");
        assertThat(Http3MalformedRequestGuard.problem(new DefaultHttp3HeadersFrame(get)))
                .isEqualTo(":protocol without :method CONNECT");
    }
}
