package io.h3relay.proxy;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.CharsetUtil;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tunnel mode: once the endpoint answers 101, both relays carry opaque bytes without an end of message,
 * each side's end is passed on as a half-close, and the exchange ends when both sides have ended.
 */
class TunnelUnitTest {
    private static final String CONFIG = ExchangeBench.oneEndpoint(", timeout: 1s");

    @Test
    void bytesFlowBothWaysAfter101UntilBothSidesEnd() throws Exception {
        ExchangeBench b = new ExchangeBench(CONFIG);
        b.upgrade("/ws");
        FakeStream s = b.pool("127.0.0.1:9001").last();
        s.respondSwitchingProtocols("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        // The 101 message's own (empty) end, as an h1 codec decodes it with the head: not the tunnel's end.
        s.listener.onResponse(LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(b.session.status()).isEqualTo(101);
        assertThat(b.session.tunnel).isTrue();
        assertThat(s.tunnel).isTrue();
        assertThat(b.session.lastWritten).isFalse();
        assertThat(b.session.reading).isTrue();

        b.body("ping");
        assertThat(s.body).hasToString("ping");
        s.respondBody("pong");
        assertThat(b.session.body).hasToString("pong");

        b.advance(2_000);
        assertThat(b.session.aborted).as("the route timeout does not cut a tunnel").isFalse();

        b.exchange.onRequestContent(new DefaultLastHttpContent(Unpooled.copiedBuffer("bye", CharsetUtil.UTF_8)));
        assertThat(s.requestEnded).as("the client's end goes upstream as a half-close").isTrue();
        assertThat(s.body).hasToString("pingbye");
        assertThat(b.session.finishedWithRequestComplete).isNull();

        s.listener.onResponse(new DefaultHttpContent(Unpooled.copiedBuffer("last words", CharsetUtil.UTF_8)));
        s.listener.onResponse(LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(b.session.body).hasToString("ponglast words");
        assertThat(b.session.lastWritten).isTrue();
        assertThat(b.session.finishedWithRequestComplete).isNotNull();
        assertThat(s.finishedClean).as("a tunnel's connection is never reused").isNull();
        assertThat(s.abortReason).isNotNull();
        assertThat(b.exchange.requestBodyBytes()).isEqualTo(7);
        assertThat(b.exchange.responseBodyBytes()).isEqualTo(14);
    }

    /** The h1 sessions hand tunnel reads over as bytes (no body part per read): the same relaying and counts. */
    @Test
    void tunnelBytesWithoutPartsAreRelayedAndCountedAlike() throws Exception {
        ExchangeBench b = new ExchangeBench(CONFIG);
        b.upgrade("/ws");
        FakeStream s = b.pool("127.0.0.1:9001").last();
        s.respondSwitchingProtocols("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        s.listener.onResponse(LastHttpContent.EMPTY_LAST_CONTENT);

        b.exchange.onTunnelBytes(Unpooled.copiedBuffer("ping", CharsetUtil.UTF_8));
        b.exchange.onReadComplete();
        assertThat(s.body).hasToString("ping");
        s.listener.onTunnelBytes(Unpooled.copiedBuffer("pong", CharsetUtil.UTF_8));
        s.listener.onReadComplete();
        assertThat(b.session.body).hasToString("pong");

        b.exchange.onRequestContent(LastHttpContent.EMPTY_LAST_CONTENT);
        s.listener.onResponse(LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(b.session.finishedWithRequestComplete).isNotNull();
        assertThat(b.exchange.requestBodyBytes()).isEqualTo(4);
        assertThat(b.exchange.responseBodyBytes()).isEqualTo(4);
        // After the end, late bytes are dropped (and released), not relayed.
        var late = Unpooled.copiedBuffer("late", CharsetUtil.UTF_8);
        s.listener.onTunnelBytes(late);
        assertThat(late.refCnt()).isZero();
        assertThat(b.session.body).hasToString("pong");
    }

    @Test
    void aTunnelIsNotSubjectToTheRequestBodyLimit() throws Exception {
        ExchangeBench b = new ExchangeBench(CONFIG);
        b.upgrade("/ws");
        FakeStream s = b.pool("127.0.0.1:9001").last();
        s.respondSwitchingProtocols("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        String chunk = "x".repeat(64 * 1024);
        long limit = b.runtime.limits().maxRequestBodySize();
        for (long sent = 0; sent <= limit; sent += chunk.length()) {
            b.body(chunk);
        }
        assertThat(b.session.aborted).isFalse();
        assertThat(b.exchange.requestBodyBytes()).isGreaterThan(limit);
        assertThat(s.body.length()).isEqualTo(b.exchange.requestBodyBytes());
    }

    @Test
    void the101KeepsTheUpgradeHeadersOnH1() throws Exception {
        ExchangeBench b = new ExchangeBench(CONFIG);
        b.upgrade("/ws");
        FakeStream s = b.pool("127.0.0.1:9001").last();
        assertThat(s.head.method().name()).isEqualTo("GET");
        assertThat(s.head.headers().get("upgrade")).isEqualTo("websocket");
        assertThat(s.head.headers().get("connection")).isEqualTo("upgrade");
        assertThat(s.head.headers().get("sec-websocket-key")).as("the client's own key").isEqualTo("dGhlIHNhbXBsZSBub25jZQ==");
        s.respondSwitchingProtocols("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assertThat(b.session.heads.get(0).headers().get("upgrade")).isEqualTo("websocket");
        assertThat(b.session.heads.get(0).headers().get("sec-websocket-accept")).isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assertThat(b.exchange.isWebSocket()).isTrue();
    }

    @Test
    void a101WithoutAnUpgradeRequestIsABadResponse() throws Exception {
        ExchangeBench b = new ExchangeBench(CONFIG);
        b.get("/not-ws");
        FakeStream s = b.pool("127.0.0.1:9001").last();
        s.respondSwitchingProtocols(null);
        assertThat(b.session.status()).isEqualTo(502);
        assertThat(b.session.tunnel).isFalse();
    }

    @Test
    void a101ThatIsNotAWebSocketIsABadResponse() throws Exception {
        ExchangeBench b = new ExchangeBench(CONFIG);
        b.upgrade("/ws");
        FakeStream s = b.pool("127.0.0.1:9001").last();
        s.respondHead(101); // no Upgrade: websocket
        assertThat(b.session.status()).isEqualTo(502);
        assertThat(b.session.tunnel).isFalse();
    }

    @Test
    void theEndpointClosingTheTunnelFirstThenTheClient() throws Exception {
        ExchangeBench b = new ExchangeBench(CONFIG);
        b.upgrade("/ws");
        FakeStream s = b.pool("127.0.0.1:9001").last();
        s.respondSwitchingProtocols("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        s.listener.onResponse(LastHttpContent.EMPTY_LAST_CONTENT); // 101's end
        s.listener.onResponse(LastHttpContent.EMPTY_LAST_CONTENT); // the endpoint's end of the tunnel
        assertThat(b.session.lastWritten).isTrue();
        assertThat(b.session.finishedWithRequestComplete).isNull();
        b.exchange.onRequestContent(LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(b.session.finishedWithRequestComplete).isNotNull();
    }
}
