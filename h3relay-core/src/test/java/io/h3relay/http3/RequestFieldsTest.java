package io.h3relay.http3;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A request's fields checked and turned into the session's HttpRequest. */
class RequestFieldsTest {
    private static RequestFields fields(String... nameValues) {
        return fields(false, nameValues);
    }

    private static RequestFields fields(boolean trailers, String... nameValues) {
        RequestFields f = new RequestFields(16 * 1024, trailers);
        for (int i = 0; i < nameValues.length; i += 2) {
            f.field(new AsciiString(nameValues[i]), new AsciiString(nameValues[i + 1]));
        }
        return f;
    }

    private static final String[] GET = {":method", "GET", ":scheme", "https", ":authority", "example.com",
        ":path", "/a?b=c"};

    private static String[] get(String... more) {
        String[] all = java.util.Arrays.copyOf(GET, GET.length + more.length);
        System.arraycopy(more, 0, all, GET.length, more.length);
        return all;
    }

    @Test
    void aGetBecomesAWholeRequestWithHost() {
        RequestFields f = fields(get("cookie", "a=1", "accept", "*/*", "cookie", "b=2"));
        assertThat(f.problem()).isNull();
        HttpRequest req = f.request(true);
        assertThat(req).isInstanceOf(FullHttpRequest.class);
        assertThat(req.method()).isSameAs(HttpMethod.GET);
        assertThat(req.uri()).isEqualTo("/a?b=c");
        assertThat(req.headers().get("host")).isEqualTo("example.com");
        assertThat(req.headers().getAll("cookie")).containsExactly("a=1; b=2");
        assertThat(req.headers().contains("transfer-encoding")).isFalse();
    }

    @Test
    void aHeadWhoseBodyFollowsIsChunkedWithoutContentLength() {
        RequestFields f = fields(":method", "POST", ":scheme", "https", ":authority", "h", ":path", "/");
        assertThat(f.request(false)).isNotInstanceOf(LastHttpContent.class);
        assertThat(fields(":method", "POST", ":scheme", "https", ":authority", "h", ":path", "/")
                .request(false).headers().get("transfer-encoding")).isEqualTo("chunked");
        RequestFields sized = fields(":method", "POST", ":scheme", "https", ":authority", "h", ":path", "/",
                "content-length", "5", "content-length", "5");
        assertThat(sized.problem()).isNull();
        assertThat(sized.contentLength()).isEqualTo(5);
        HttpRequest req = sized.request(false);
        assertThat(req.headers().getAll("content-length")).containsExactly("5");
        assertThat(req.headers().contains("transfer-encoding")).isFalse();
    }

    @Test
    void anExtendedConnectKeepsItsPathAndProtocol() {
        RequestFields f = fields(":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":authority",
                "h:443", ":path", "/chat");
        assertThat(f.problem()).isNull();
        HttpRequest req = f.request(false);
        assertThat(req.uri()).isEqualTo("h:443");
        assertThat(req.headers().get("x-http3-path")).isEqualTo("/chat");
        assertThat(req.headers().get("x-http3-protocol")).isEqualTo("websocket");
        assertThat(fields(":method", "CONNECT", ":authority", "h:443").problem()).isNull();
    }

    @Test
    void malformedRequestsAreNamed() {
        assertThat(fields(":method", "GET", ":scheme", "https", ":path", "/").problem())
                .isEqualTo("neither :authority nor host");
        assertThat(fields(":method", "OPTIONS", ":scheme", "https", ":path", "*").problem()).isNull();
        assertThat(fields(":method", "GET", ":authority", "h", ":path", "/").problem())
                .isEqualTo("missing or unexpected pseudo-headers");
        assertThat(fields(":method", "CONNECT", ":authority", "h", ":path", "/").problem())
                .isEqualTo("missing or unexpected pseudo-headers");
        assertThat(fields(get(":path", "/x")).problem()).contains("pseudo-header");
        assertThat(fields(":method", "GET", "x-a", "1", ":path", "/").problem()).contains("after a regular field");
        assertThat(fields(get(":status", "200")).problem()).contains("invalid pseudo-header");
        assertThat(fields(get(":protocol", "websocket")).problem()).isEqualTo(":protocol without :method CONNECT");
        assertThat(fields(get("host", "other.example")).problem()).isEqualTo("conflicting :authority and host");
        assertThat(fields(get("host", "EXAMPLE.com")).problem()).isNull();
        assertThat(fields(get("content-length", "5", "content-length", "6")).problem())
                .isEqualTo("conflicting content-length fields");
        assertThat(fields(get("content-length", "+5")).problem()).isEqualTo("content-length is not a number");
        assertThat(fields(get("X-Upper", "1")).problem()).isEqualTo("field name is not a lowercase token");
        assertThat(fields(get("connection", "close")).problem()).isEqualTo("connection-specific field connection");
        assertThat(fields(get("te", "trailers")).problem()).isNull();
        assertThat(fields(":method", "GET", ":scheme", "https", ":authority", "h", ":path", "").problem())
                .isEqualTo("empty :path");
        assertThat(fields(true, ":path", "/").problem()).isEqualTo("pseudo-header in trailers");
        // Found by Http3StreamFuzzTest (crash-7362c121...): Netty's HttpRequest refused the request target
        assertThat(fields(":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":authority",
                "loca host", ":path", "/ws").problem()).isEqualTo("control character or space in the :authority of a CONNECT");
    }

    @Test
    void trailersBecomeTheLastPart() {
        RequestFields f = fields(true, "grpc-status", "0", "trailer", "x");
        assertThat(f.problem()).isNull();
        LastHttpContent last = f.trailers();
        assertThat(last.trailingHeaders().get("grpc-status")).isEqualTo("0");
        assertThat(last.trailingHeaders().contains("trailer")).isFalse();
    }

    @Test
    void aSectionOverTheLimitIsTooLarge() {
        RequestFields f = new RequestFields(100, false);
        f.field(new AsciiString("x-a"), new AsciiString("v".repeat(60)));
        assertThat(f.tooLarge()).isFalse();
        f.field(new AsciiString("x-b"), new AsciiString("v"));
        assertThat(f.tooLarge()).isTrue();
    }
}
