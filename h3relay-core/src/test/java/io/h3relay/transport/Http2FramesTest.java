package io.h3relay.transport;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.HttpConversionUtil;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The h2 conversions that take a shorter way than Netty's HttpConversionUtil give what it gives: the same
 * fields in the same order for a response head, the same request or response (headers, no body) for a head
 * with END_STREAM.
 */
class Http2FramesTest {

    private static List<String> fields(Http2Headers h) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            out.add(e.getKey() + ": " + e.getValue());
        }
        return out;
    }

    private static void sameAsNetty(HttpResponse head) {
        assertThat(fields(Http2Frames.toHttp2Headers(head)))
                .isEqualTo(fields(HttpConversionUtil.toHttp2Headers(head, true)));
    }

    private static HttpResponse response(String... nameValues) {
        HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        for (int i = 0; i < nameValues.length; i += 2) {
            res.headers().add(nameValues[i], nameValues[i + 1]);
        }
        return res;
    }

    @Test
    void usualResponseHeadAsNettyMakesIt() {
        sameAsNetty(response("Content-Type", "text/plain", "content-length", "17", "Via", "1.1 h3relay",
                "X-Request-Id", "abc", "set-cookie", "a=1; Path=/", "set-cookie", "b=2", "Server", "nginx"));
    }

    @Test
    void connectionSpecificFieldsDropped() {
        HttpResponse head = response("Keep-Alive", "timeout=5", "Transfer-Encoding", "chunked", "Upgrade", "h2c",
                "Proxy-Connection", "keep-alive", "Host", "example.com", "x-http2-stream-id", "3",
                "x-http2-scheme", "https", "x-http2-path", "/", "date", "today");
        assertThat(fields(Http2Frames.toHttp2Headers(head))).containsExactly(":status: 200", "date: today");
        sameAsNetty(head);
    }

    @Test
    void connectionTeAndCookieTakeNettysWay() {
        sameAsNetty(response("Connection", "close, X-Secret", "x-secret", "1", "date", "today"));
        sameAsNetty(response("TE", "gzip, trailers", "date", "today"));
        sameAsNetty(response("Cookie", "a=1; b=2", "date", "today"));
    }

    @Test
    void statusAndEmptyHead() {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND);
        assertThat(fields(Http2Frames.toHttp2Headers(head))).containsExactly(":status: 404");
        sameAsNetty(head);
    }

    @Test
    void bodilessRequestAsNettyMakesItWithoutAPooledBuffer() throws Http2Exception {
        Http2Headers h2 = new DefaultHttp2Headers().method("GET").path("/a?b=c").scheme("https")
                .authority("example.com");
        h2.add("cookie", "a=1");
        h2.add("cookie", "b=2");
        h2.add("accept", "*/*");
        FullHttpRequest ours = (FullHttpRequest) Http2Frames.toHttpObject(
                new DefaultHttp2HeadersFrame(h2, true), ByteBufAllocator.DEFAULT, true);
        FullHttpRequest netty = HttpConversionUtil.toFullHttpRequest(0, h2, ByteBufAllocator.DEFAULT, true);
        try {
            assertThat(ours.content()).isSameAs(Unpooled.EMPTY_BUFFER);
            assertThat(ours.method()).isEqualTo(netty.method());
            assertThat(ours.uri()).isEqualTo(netty.uri());
            assertThat(ours.protocolVersion()).isEqualTo(netty.protocolVersion());
            assertThat(ours.headers().entries()).isEqualTo(netty.headers().entries());
            assertThat(ours.trailingHeaders().isEmpty()).isTrue();
        } finally {
            ours.release();
            netty.release();
        }
    }

    @Test
    void bodilessResponseAsNettyMakesIt() throws Http2Exception {
        Http2Headers h2 = new DefaultHttp2Headers().status("204");
        h2.add("grpc-status", "0");
        FullHttpResponse ours = (FullHttpResponse) Http2Frames.toHttpObject(
                new DefaultHttp2HeadersFrame(h2, true), ByteBufAllocator.DEFAULT, false);
        FullHttpResponse netty = HttpConversionUtil.toFullHttpResponse(0, h2, ByteBufAllocator.DEFAULT, true);
        try {
            assertThat(ours.content()).isSameAs(Unpooled.EMPTY_BUFFER);
            assertThat(ours.status()).isEqualTo(netty.status());
            assertThat(ours.headers().entries()).isEqualTo(netty.headers().entries());
        } finally {
            ours.release();
            netty.release();
        }
    }

    @Test
    void malformedHeadsFailAsBefore() {
        Http2Headers noPath = new DefaultHttp2Headers().method("GET").scheme("https");
        assertThatThrownBy(() -> Http2Frames.toHttpObject(new DefaultHttp2HeadersFrame(noPath, true),
                ByteBufAllocator.DEFAULT, true)).isInstanceOf(NullPointerException.class);
        Http2Headers badStatus = new DefaultHttp2Headers().status("abc");
        assertThatThrownBy(() -> Http2Frames.toHttpObject(new DefaultHttp2HeadersFrame(badStatus, true),
                ByteBufAllocator.DEFAULT, false)).isInstanceOf(Http2Exception.class);
    }
}
