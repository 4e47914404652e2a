package io.h3relay.websocket;

import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class WebSocketUpgradeTest {

    @Test
    void acceptValueIsRfc6455s() {
        // RFC 6455 section 1.3's example.
        assertThat(WebSocketUpgrade.acceptOf("dGhlIHNhbXBsZSBub25jZQ==")).isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    @Test
    void recognisesH1UpgradesAndExtendedConnects() {
        var h1 = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/ws");
        h1.headers().set("Connection", "keep-alive, Upgrade").set("Upgrade", "WebSocket");
        assertThat(WebSocketUpgrade.of(h1)).isEqualTo(WebSocketUpgrade.H1_UPGRADE);

        var h2c = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        h2c.headers().set("Connection", "Upgrade, HTTP2-Settings").set("Upgrade", "h2c");
        assertThat(WebSocketUpgrade.of(h2c)).isEqualTo(WebSocketUpgrade.NONE);

        var noConnection = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/ws");
        noConnection.headers().set("Upgrade", "websocket");
        assertThat(WebSocketUpgrade.of(noConnection)).as("Upgrade without Connection: upgrade").isEqualTo(WebSocketUpgrade.NONE);

        var h2 = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.CONNECT, "example.com:443");
        h2.headers().set("x-http2-protocol", "websocket").set("x-http2-path", "/chat?room=1");
        assertThat(WebSocketUpgrade.of(h2)).isEqualTo(WebSocketUpgrade.EXTENDED_CONNECT);
        assertThat(WebSocketUpgrade.connectPath(h2)).isEqualTo("/chat?room=1");

        var h3 = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.CONNECT, "example.com:443");
        h3.headers().set("x-http3-protocol", "websocket").set("x-http3-path", "/chat");
        assertThat(WebSocketUpgrade.of(h3)).isEqualTo(WebSocketUpgrade.EXTENDED_CONNECT);

        var udp = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.CONNECT, "example.com:443");
        udp.headers().set("x-http3-protocol", "connect-udp");
        assertThat(WebSocketUpgrade.of(udp)).isEqualTo(WebSocketUpgrade.NONE);
        assertThat(WebSocketUpgrade.isExtendedConnect(udp)).isTrue();
    }

    @Test
    void extendedConnectGetsAKeyOfOursAndOnlyItsAcceptCompletesTheUpgrade() {
        HttpHeaders h = new DefaultHttpHeaders();
        String key = WebSocketUpgrade.EXTENDED_CONNECT.toUpstream(h);
        assertThat(h.get("connection")).isEqualTo("upgrade");
        assertThat(h.get("upgrade")).isEqualTo("websocket");
        assertThat(h.get("sec-websocket-key")).isEqualTo(key).hasSize(24);
        assertThat(h.get("sec-websocket-version")).isEqualTo("13");

        HttpResponse ok = switching(WebSocketUpgrade.acceptOf(key));
        assertThat(WebSocketUpgrade.accepted(ok, key)).isTrue();
        assertThat(WebSocketUpgrade.accepted(switching("bm90IHRoZSByaWdodCBvbmU="), key)).isFalse();
        assertThat(WebSocketUpgrade.accepted(switching(null), key)).isFalse();

        WebSocketUpgrade.EXTENDED_CONNECT.toDownstream(ok);
        assertThat(ok.status()).isEqualTo(HttpResponseStatus.OK);
        assertThat(ok.headers().contains("sec-websocket-accept")).isFalse();
    }

    @Test
    void h1KeepsTheClientsKeyAndGetsA101WithUpgradeBack() {
        HttpHeaders h = new DefaultHttpHeaders().set("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
        assertThat(WebSocketUpgrade.H1_UPGRADE.toUpstream(h)).isNull();
        assertThat(h.get("sec-websocket-key")).isEqualTo("dGhlIHNhbXBsZSBub25jZQ==");
        HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
        res.headers().set("upgrade", "websocket");
        assertThat(WebSocketUpgrade.accepted(res, null)).isTrue();
        WebSocketUpgrade.H1_UPGRADE.toDownstream(res);
        assertThat(res.status().code()).isEqualTo(101);
        assertThat(res.headers().get("connection")).isEqualTo("upgrade");
    }

    private static HttpResponse switching(String accept) {
        HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
        res.headers().set("upgrade", "websocket").set("connection", "upgrade");
        if (accept != null) {
            res.headers().set("sec-websocket-accept", accept);
        }
        return res;
    }
}
