package io.h3relay.listener.h3;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.quic.QuicStreamChannel;
import java.util.Map;
import io.h3relay.http3.FieldChecks;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resets a malformed HTTP/3 request stream with H3_MESSAGE_ERROR (RFC 9114 section 4.1.2) before it turns
 * into an HTTP/1-style request. Asked by {@link Http3RequestStreamGuard}, right behind Netty's frame codec and
 * validators (QPACK's dynamic table on; h3relay's own request streams check the same in
 * {@link io.h3relay.http3.RequestFields}); it refuses (each field checked by {@link FieldChecks}):
 * <ul>
 *   <li>field values with a control character other than HTAB (NUL, CR, LF, but also 0x01-0x08, 0x0b-0x1f and
 *   DEL: not field-content, RFC 9110 section 5.5), or with leading or trailing whitespace (RFC 9114 section
 *   4.2): Netty's HTTP/3-to-HttpObject adapter throws on them (its header validation) and only logs at ERROR,
 *   leaving the stream open until the idle timeout (a control character other than NUL, CR and LF in
 *   {@code :authority} was found so by {@code it/Http3StreamFuzzTest});</li>
 *   <li>a {@code :method} that is not a token, a {@code :path} with a control character or space (the
 *   adapter throws on them too);</li>
 *   <li>field names that are not lowercase tokens (pseudo-headers aside), and connection-specific fields
 *   ({@code connection}, {@code keep-alive}, {@code proxy-connection}, {@code transfer-encoding},
 *   {@code upgrade}, {@code te} other than {@code trailers}), as h2 refuses them (RFC 9113 section
 *   8.2.2): Netty's h3 adapter passes them on;</li>
 *   <li>{@code :protocol} on anything but a CONNECT (RFC 9220 / RFC 8441 section 4);</li>
 *   <li>any exception from Netty's request-stream validation (a Content-Length that is not one number,
 *   or that disagrees with the DATA): client input, not an internal error.</li>
 * </ul>
 * After a reset the guard drops the rest of the stream's frames.
 */
final class Http3MalformedRequestGuard {
    private static final Logger LOG = LoggerFactory.getLogger(Http3MalformedRequestGuard.class);

    private Http3MalformedRequestGuard() {
    }

    /**
     * True when {@code cause}, from Netty's decoding and validation (only they are in front of the guard), is a
     * malformed message: client input for this stream to reset. A frame error (a HEADERS frame over the
     * field-section limit, say) is the connection's: Netty closes it; only a malformed message (H3_MESSAGE_ERROR)
     * is this stream's.
     */
    static boolean isMalformed(Throwable cause) {
        return cause instanceof IllegalArgumentException
                || cause instanceof io.netty.handler.codec.http3.Http3HeadersValidationException
                || (cause instanceof io.netty.handler.codec.http3.Http3Exception h3
                    && h3.errorCode() == io.netty.handler.codec.http3.Http3ErrorCode.H3_MESSAGE_ERROR);
    }

    /** Resets the stream of {@code ctx} with H3_MESSAGE_ERROR and closes it. */
    static void refuse(ChannelHandlerContext ctx, String why) {
        LOG.debug("h3 stream {}: malformed request ({}); reset with H3_MESSAGE_ERROR", ctx.channel(), why);
        ((QuicStreamChannel) ctx.channel()).shutdown(Http3ErrorCode.H3_MESSAGE_ERROR.code());
        ctx.close();
    }

    /** Why the field section makes the request malformed, or null. */
    static String problem(Http3HeadersFrame frame) {
        CharSequence protocol = frame.headers().protocol();
        CharSequence method = frame.headers().method();
        if (protocol != null && (method == null || !"CONNECT".contentEquals(method))) {
            return ":protocol without :method CONNECT"; // RFC 9220 section 3, RFC 8441 section 4
        }
        for (Map.Entry<CharSequence, CharSequence> field : frame.headers()) {
            String problem = FieldChecks.problem(field.getKey(), field.getValue());
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }
}
