package io.h3relay.exchange;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
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
 * How an h1 session writes a streamed response over a real codec: the head waits for what follows it in the
 * same read, so a small response leaves as one buffer; a body part or a flush writes the head first; bytes on
 * the wire are the same either way.
 */
class Http1SessionWritesTest {
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

    private static final class Recorder implements DownstreamExchange {
        final List<HttpRequest> heads = new ArrayList<>();

        @Override
        public void start(HttpRequest head) {
            heads.add(head);
        }

        @Override
        public void onRequestContent(HttpContent content) {
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
        }
    }

    private final Recorder ex = new Recorder();
    private final Http1Session session = new Http1Session(PLAIN, s -> ex, 1);
    private final EmbeddedChannel ch = new EmbeddedChannel(new HttpServerCodec(), session);

    private void request(String method) {
        ch.writeInbound(Unpooled.copiedBuffer(method + " / HTTP/1.1\r\nHost: a\r\n\r\n", CharsetUtil.US_ASCII));
        assertThat(ex.heads).hasSize(1);
    }

    private static DefaultHttpResponse head(int length) {
        DefaultHttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, length);
        return res;
    }

    private static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, CharsetUtil.US_ASCII);
    }

    private List<String> outbound() {
        List<String> out = new ArrayList<>();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            out.add(b.toString(CharsetUtil.ISO_8859_1));
            b.release();
        }
        return out;
    }

    @Test
    void aHeadFollowedByTheWholeBodyLeavesAsOneBuffer() {
        request("GET");
        session.writeHead(head(5));
        assertThat(outbound()).as("the head waits for what follows it").isEmpty();
        session.writeLast(new DefaultLastHttpContent(text("hello")));
        List<String> out = outbound();
        assertThat(out).hasSize(1);
        assertThat(out.get(0)).startsWith("HTTP/1.1 200 OK\r\n").contains("content-length: 5\r\n")
                .endsWith("\r\n\r\nhello");
        session.flush(); // the read-complete flush finds nothing more
        assertThat(outbound()).isEmpty();
        session.exchangeFinished(true);
        assertThat(ch.isOpen()).isTrue();

        // The connection goes on: the next response is framed the same way.
        ch.writeInbound(text("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"));
        assertThat(ex.heads).hasSize(2);
        session.writeHead(head(2));
        session.writeLast(new DefaultLastHttpContent(text("ok")));
        assertThat(String.join("", outbound())).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok");
        ch.finishAndReleaseAll();
    }

    @Test
    void aFlushOrABodyPartWritesTheHeldHeadFirst() {
        request("GET");
        session.writeHead(head(10));
        session.flush(); // the end of the endpoint's read: what we have goes out
        assertThat(String.join("", outbound())).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\n");
        session.writeBody(new DefaultHttpContent(text("01234")));
        session.flush();
        assertThat(String.join("", outbound())).isEqualTo("01234");
        session.writeLast(new DefaultLastHttpContent(text("56789")));
        assertThat(String.join("", outbound())).isEqualTo("56789");
        session.exchangeFinished(true);

        ch.writeInbound(text("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"));
        DefaultHttpResponse chunked = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        session.writeHead(chunked);
        session.writeBody(new DefaultHttpContent(text("abc")));
        LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
        last.trailingHeaders().set("x-sum", "1");
        session.writeLast(last);
        String wire = String.join("", outbound());
        assertThat(wire).startsWith("HTTP/1.1 200 OK\r\n").contains("transfer-encoding: chunked\r\n")
                .endsWith("\r\n\r\n3\r\nabc\r\n0\r\nx-sum: 1\r\n\r\n");
        ch.finishAndReleaseAll();
    }

    @Test
    void aHeadResponseKeepsItsLengthWithoutABody() {
        request("HEAD");
        session.writeHead(head(1234));
        session.writeLast(LastHttpContent.EMPTY_LAST_CONTENT);
        String wire = String.join("", outbound());
        assertThat(wire).startsWith("HTTP/1.1 200 OK\r\n").contains("content-length: 1234\r\n").endsWith("\r\n\r\n");
        session.exchangeFinished(true);
        assertThat(ch.isOpen()).isTrue();
        ch.finishAndReleaseAll();
    }

    @Test
    void anAbortDropsAHeldHeadLikeAnUnflushedWrite() {
        request("GET");
        session.writeHead(head(5));
        session.abort();
        assertThat(ch.isOpen()).isFalse();
        assertThat(outbound()).isEmpty();
        ch.finishAndReleaseAll();
    }
}
