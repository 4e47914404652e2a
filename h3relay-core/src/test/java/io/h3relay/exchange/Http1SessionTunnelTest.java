package io.h3relay.exchange;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.CharsetUtil;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An h1 session entering tunnel mode over a real codec: raw CONNECT-style. After the 2xx (or 101) head
 * the codec leaves; the client's bytes reach the exchange as they came, and the exchange's bytes leave
 * without chunk framing.
 */
class Http1SessionTunnelTest {

    /** Records what the session hands the exchange. */
    private static final class Recorder implements DownstreamExchange {
        final List<HttpRequest> heads = new ArrayList<>();
        final StringBuilder bytes = new StringBuilder();
        boolean ended;
        boolean closed;

        @Override
        public void start(HttpRequest head) {
            heads.add(head);
        }

        @Override
        public void onRequestContent(HttpContent content) {
            bytes.append(content.content().toString(CharsetUtil.ISO_8859_1));
            if (content instanceof LastHttpContent && heads.size() > 0 && bytes.length() > 0) {
                ended = true;
            }
            content.release();
        }

        @Override
        public void onReadComplete() {
        }

        @Override
        public void onWritable() {
        }

        @Override
        public void onClosed() {
            closed = true;
        }
    }

    private static final ListenerState PLAIN = new ListenerState() {
        @Override
        public boolean isDraining() {
            return false;
        }

        @Override
        public String altSvc() {
            return null;
        }
    };

    private static String drain(EmbeddedChannel ch) {
        StringBuilder out = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            out.append(b.toString(CharsetUtil.ISO_8859_1));
            b.release();
        }
        return out.toString();
    }

    /** A WebSocket Upgrade read by the session, answered 101: the session is a tunnel from here on. */
    private static void upgradeToTunnel(EmbeddedChannel ch, Http1Session session) {
        ch.writeInbound(Unpooled.copiedBuffer("GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"
                + "Upgrade: websocket\r\n\r\n", CharsetUtil.US_ASCII));
        DefaultHttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
        res.headers().set("connection", "upgrade").set("upgrade", "websocket");
        session.writeHead(res);
        session.enterTunnel();
        session.flush();
    }

    @Test
    void connectThen200TurnsTheConnectionIntoARawTunnel() {
        Recorder ex = new Recorder();
        Http1Session session = new Http1Session(PLAIN, s -> ex, 1);
        EmbeddedChannel ch = new EmbeddedChannel(new HttpServerCodec(), session);

        ch.writeInbound(Unpooled.copiedBuffer("CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n",
                CharsetUtil.US_ASCII));
        assertThat(ex.heads).hasSize(1);
        assertThat(ex.heads.get(0).method().name()).isEqualTo("CONNECT");

        session.writeHead(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        session.enterTunnel();
        session.flush();
        String head = drain(ch);
        assertThat(head).startsWith("HTTP/1.1 200 OK\r\n").doesNotContain("chunked");
        assertThat(ch.pipeline().get(HttpServerCodec.class)).as("the codec left").isNull();

        ex.bytes.setLength(0);
        // Bytes that look like HTTP are not parsed any more: they are the tunnel's payload.
        ch.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\n\r\n\u0000\u0001", CharsetUtil.ISO_8859_1));
        assertThat(ex.bytes).hasToString("GET / HTTP/1.1\r\n\r\n\u0000\u0001");
        assertThat(ex.heads).hasSize(1);

        session.writeBody(new DefaultHttpContent(Unpooled.copiedBuffer("raw answer", CharsetUtil.US_ASCII)));
        session.flush();
        assertThat(drain(ch)).isEqualTo("raw answer");

        session.writeLast(new DefaultLastHttpContent(Unpooled.copiedBuffer("!", CharsetUtil.US_ASCII)));
        assertThat(drain(ch)).isEqualTo("!");
        session.exchangeFinished(true);
        ch.runPendingTasks();
        assertThat(ch.isOpen()).as("a tunnel's connection ends with it").isFalse();
    }

    /**
     * The tunnel's last bytes are released once, by whoever consumes them. SslHandler reads a write's bytes and
     * releases them before {@code writeAndFlush} returns; the session used to look at the buffer after that
     * write, find it empty and release it again: a slice of an h2 endpoint's read buffer, so the decoder's
     * buffer was freed under it (a use-after-free under io_uring, whose sends complete later).
     */
    @Test
    void theTunnelsLastBytesAreReleasedOnceWhenTheWriteConsumesThemAtOnce() {
        Recorder ex = new Recorder();
        Http1Session session = new Http1Session(PLAIN, s -> ex, 1);
        StringBuilder wire = new StringBuilder();
        ChannelOutboundHandlerAdapter consumesAtWrite = new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                ByteBuf b = (ByteBuf) msg;
                wire.append(b.readCharSequence(b.readableBytes(), CharsetUtil.ISO_8859_1));
                b.release();
                promise.setSuccess();
            }
        };
        EmbeddedChannel ch = new EmbeddedChannel(consumesAtWrite, new HttpServerCodec(), session);
        upgradeToTunnel(ch, session);
        wire.setLength(0);

        ByteBuf shared = Unpooled.copiedBuffer("bye", CharsetUtil.US_ASCII);
        shared.retain(); // another holder, as the h2 decoder holds the buffer a DATA frame is a slice of
        session.writeLast(new DefaultLastHttpContent(shared));
        assertThat(wire).hasToString("bye");
        assertThat(shared.refCnt()).as("released once, by the write").isEqualTo(1);
        shared.release();

        ByteBuf empty = Unpooled.buffer(0).retain();
        Http1Session again = new Http1Session(PLAIN, s -> ex, 1);
        EmbeddedChannel ch2 = new EmbeddedChannel(new HttpServerCodec(), again);
        upgradeToTunnel(ch2, again);
        again.writeLast(new DefaultLastHttpContent(empty));
        assertThat(empty.refCnt()).as("an empty end is released by the session, once").isEqualTo(1);
        empty.release();
        ch.finishAndReleaseAll();
        ch2.finishAndReleaseAll();
    }

    @Test
    void switchingProtocolsKeepsTheUpgradeHeadersAndDropsFraming() {
        Recorder ex = new Recorder();
        Http1Session session = new Http1Session(PLAIN, s -> ex, 1);
        EmbeddedChannel ch = new EmbeddedChannel(new HttpServerCodec(), session);
        upgradeToTunnel(ch, session);
        String head = drain(ch);
        assertThat(head).startsWith("HTTP/1.1 101 Switching Protocols\r\n").containsIgnoringCase("upgrade: websocket")
                .doesNotContain("close").doesNotContain("chunked");
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {(byte) 0x81, 0x02, 'h', 'i'}));
        assertThat(ex.bytes.toString().getBytes(CharsetUtil.ISO_8859_1)).containsExactly(0x81, 0x02, 'h', 'i');
        ch.finishAndReleaseAll();
    }
}
