package io.h3relay.transport;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;

/**
 * An h2 stream's frames as the {@code HttpObject}s an h1 connection produces, the conversion of Netty's
 * {@code Http2StreamFrameToHttpObjectCodec} (headers validated) without a handler of its own in each stream's
 * pipeline; used by the listener's streams (requests) and the upstream's (responses). A 100 or a head with
 * END_STREAM becomes a full message, trailers the last content, a head without a length a chunked one; DATA
 * becomes content (its buffer handed on, not copied).
 */
public final class Http2Frames {
    private Http2Frames() {
    }

    /**
     * {@code frame} as an {@code HttpObject}: requests when {@code requests} (a server's stream), else
     * responses; null for a frame that is neither HEADERS nor DATA (the caller releases it).
     */
    public static HttpObject toHttpObject(Http2StreamFrame frame, ByteBufAllocator alloc, boolean requests)
            throws Http2Exception {
        if (frame instanceof Http2HeadersFrame headersFrame) {
            Http2Headers headers = headersFrame.headers();
            Http2FrameStream stream = headersFrame.stream();
            int id = stream == null ? 0 : stream.id();
            CharSequence status = headers.status();
            if (status != null && HttpResponseStatus.CONTINUE.codeAsText().contentEquals(status)) {
                return full(id, headers, alloc, requests);
            }
            if (headersFrame.isEndStream()) {
                if (headers.method() == null && status == null) {
                    LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, true);
                    HttpConversionUtil.addHttp2ToHttpHeaders(id, headers, last.trailingHeaders(),
                            HttpVersion.HTTP_1_1, true, true);
                    return last;
                }
                return full(id, headers, alloc, requests);
            }
            HttpMessage head = requests ? HttpConversionUtil.toHttpRequest(id, headers, true)
                    : HttpConversionUtil.toHttpResponse(id, headers, true);
            if (!HttpUtil.isContentLengthSet(head)) {
                head.headers().add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
            return head;
        }
        if (frame instanceof Http2DataFrame data) {
            return data.isEndStream() ? new DefaultLastHttpContent(data.content(), true)
                    : new DefaultHttpContent(data.content());
        }
        return null;
    }

    private static HttpObject full(int id, Http2Headers headers, ByteBufAllocator alloc, boolean requests)
            throws Http2Exception {
        return requests ? HttpConversionUtil.toFullHttpRequest(id, headers, alloc, true)
                : HttpConversionUtil.toFullHttpResponse(id, headers, alloc, true);
    }
}
