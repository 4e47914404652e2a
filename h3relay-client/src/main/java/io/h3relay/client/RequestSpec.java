package io.h3relay.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http3.DefaultHttp3Headers;
import io.netty.handler.codec.http3.Http3Headers;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One request to send, prepared once for every protocol: the encoded HTTP/1.1 bytes, the h2 and h3
 * header blocks and the body. A load run sends the same spec many times from several event loops, so
 * everything here is built in the constructor and only read afterwards.
 */
public final class RequestSpec {
    // Connection-specific headers: meaningless (and forbidden) on h2/h3; "te: trailers" alone is allowed (gRPC).
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "upgrade", "te", "host");

    private final String method;
    private final Target target;
    private final List<Map.Entry<String, String>> headers;
    private final ByteBuf body;      // unreleasable; null when the request has no body
    private final ByteBuf h1;        // unreleasable: the whole encoded h1 request, body included
    private final Http2Headers h2;
    private final Http3Headers h3;
    private final long h3FieldSectionSize;
    private final boolean grpc;

    public RequestSpec(String method, Target target, List<Map.Entry<String, String>> headers, byte[] body) {
        this.method = method.toUpperCase(Locale.ROOT);
        this.target = target;
        this.headers = List.copyOf(headers);
        this.body = body == null ? null : Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(body).asReadOnly());
        this.h1 = encodeH1();
        this.h2 = new DefaultHttp2Headers();
        h2.method(this.method).scheme(target.tls() ? "https" : "http").authority(authority()).path(target.pathAndQuery());
        this.h3 = new DefaultHttp3Headers();
        h3.method(this.method).scheme("https").authority(authority()).path(target.pathAndQuery());
        for (Map.Entry<String, String> e : this.headers) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            boolean teTrailers = name.equals("te") && e.getValue().trim().equalsIgnoreCase("trailers");
            if ((!HOP_BY_HOP.contains(name) || teTrailers) && !name.equals("content-length")) {
                h2.add(name, e.getValue());
                h3.add(name, e.getValue());
            }
        }
        if (body != null) {
            h2.setLong("content-length", body.length);
            h3.setLong("content-length", body.length);
        }
        long size = 0;
        for (Map.Entry<CharSequence, CharSequence> e : h3) {
            size += e.getKey().length() + e.getValue().length() + 32;
        }
        this.h3FieldSectionSize = size;
        boolean g = false;
        for (Map.Entry<String, String> e : this.headers) {
            String v = e.getValue().trim().toLowerCase(Locale.ROOT);
            if (e.getKey().equalsIgnoreCase("content-type") && (v.equals("application/grpc")
                    || v.startsWith("application/grpc+") || v.startsWith("application/grpc;"))) {
                g = true;
            }
        }
        this.grpc = g;
    }

    public static RequestSpec get(Target target) {
        return new RequestSpec("GET", target, List.of(), null);
    }

    public String method() {
        return method;
    }

    public Target target() {
        return target;
    }

    public List<Map.Entry<String, String>> headers() {
        return headers;
    }

    /** A gRPC request ({@code content-type: application/grpc}, {@code +proto} etc.): its outcome is its grpc-status. */
    public boolean isGrpc() {
        return grpc;
    }

    public boolean isHead() {
        return method.equals("HEAD");
    }

    /** The body (a fresh view to write), or null. */
    public ByteBuf body() {
        return body == null ? null : body.duplicate();
    }

    public int bodyLength() {
        return body == null ? 0 : body.readableBytes();
    }

    /** The complete HTTP/1.1 request as bytes (a fresh view to write). */
    public ByteBuf http1() {
        return h1.duplicate();
    }

    public Http2Headers http2Headers() {
        return h2;
    }

    public Http3Headers http3Headers() {
        return h3;
    }

    /**
     * The h3 head's size as SETTINGS_MAX_FIELD_SECTION_SIZE counts it (RFC 9114 §4.2.2: each field's
     * name and value, uncompressed, plus 32), pseudo-header fields included.
     */
    public long http3FieldSectionSize() {
        return h3FieldSectionSize;
    }

    /** The Host header if one was given, else the URL's authority (h2 and h3 send it as :authority). */
    private String authority() {
        for (Map.Entry<String, String> e : headers) {
            if (e.getKey().equalsIgnoreCase("host")) {
                return e.getValue();
            }
        }
        return target.authority();
    }

    /** Netty's encoder writes the h1 bytes once; every send then writes a view of them. */
    private ByteBuf encodeH1() {
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method),
                target.pathAndQuery(), body == null ? Unpooled.EMPTY_BUFFER : body.duplicate());
        req.headers().set(HttpHeaderNames.HOST, target.authority());
        for (Map.Entry<String, String> e : headers) {
            if (e.getKey().equalsIgnoreCase("host")) {
                req.headers().set(HttpHeaderNames.HOST, e.getValue());
            } else {
                req.headers().add(e.getKey(), e.getValue());
            }
        }
        if (body != null) {
            req.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        }
        EmbeddedChannel ch = new EmbeddedChannel(new HttpRequestEncoder());
        ch.writeOutbound(req);
        ByteBuf out = Unpooled.buffer();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            out.writeBytes(b);
            b.release();
        }
        ch.finishAndReleaseAll();
        ByteBuf direct = Unpooled.directBuffer(out.readableBytes()).writeBytes(out);
        return Unpooled.unreleasableBuffer(direct.asReadOnly());
    }
}
