package io.h3relay.listener.h3;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.http3.Http3Exception;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.util.CharsetUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes the connection when Netty's HTTP/3 frame codec fails on a request stream's bytes with an exception of
 * its own instead of an HTTP/3 error. Netty 4.2.18's codec turns a {@code QpackException} in a field section
 * into a QPACK_DECOMPRESSION_FAILED connection error, but not the runtime exceptions its QPACK decoder throws on
 * a field section cut short inside its frame: a HEADERS frame whose payload is one byte (a Required Insert
 * Count, no Delta Base) reads past the end of the section ({@code IndexOutOfBoundsException}), a zero-length
 * HEADERS frame reads the next frame's bytes and slices a negative length ({@code IllegalArgumentException}).
 * Those reach the pipeline as a {@link DecoderException}, which the session took for a malformed request and
 * ended the stream with a bare FIN while the connection stayed open (found by {@code it/Http3StreamFuzzTest},
 * input {@code headers-one-byte-field-section-found-1}). RFC 9204 sections 2.2 and 6: a field section the
 * decoder cannot interpret is a connection error of type QPACK_DECOMPRESSION_FAILED; any other frame the codec
 * cannot take apart fails its layout (RFC 9114 section 7.1, H3_FRAME_ERROR).
 *
 * <p>Asked by {@link Http3RequestStreamGuard}, which sits right behind Netty's codec and validators, so what
 * reaches it as a {@link DecoderException} came from decoding client bytes. After the failure the codec's frame
 * position is lost (it does not mark itself failed and keeps decoding from wherever the exception left it), so
 * the guard drops every later message on the stream, never read as a request.
 */
final class Http3FrameDecodeFailures {
    private static final Logger LOG = LoggerFactory.getLogger(Http3FrameDecodeFailures.class);
    private static final String QPACK_DECODER = "io.netty.handler.codec.http3.QpackDecoder";

    private Http3FrameDecodeFailures() {
    }

    /** True when {@code cause} is Netty's frame codec failing on client bytes without an HTTP/3 error of its own. */
    static boolean isDecodeFailure(Throwable cause) {
        boolean decodeFailure = cause instanceof DecoderException && !(cause.getCause() instanceof Http3Exception);
        // With assertions on (the tests' JVMs), the QPACK decoder asserts where it would go on to throw a runtime
        // exception: a literal whose length runs past the section is -1, asserted >= 0 (then a negative array
        // size). An Error is not wrapped by ByteToMessageDecoder.
        boolean assertion = cause instanceof AssertionError && thrownBy(cause, QPACK_DECODER);
        return decodeFailure || assertion;
    }

    /** Closes the stream's QUIC connection with the error code the decode failure {@code cause} calls for. */
    static void closeConnection(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause.getCause() != null ? cause.getCause() : cause;
        Http3ErrorCode code = thrownBy(root, QPACK_DECODER)
                ? Http3ErrorCode.QPACK_DECOMPRESSION_FAILED : Http3ErrorCode.H3_FRAME_ERROR;
        LOG.debug("h3 stream {}: the frame codec failed on client bytes ({}); closing the connection with {}",
                ctx.channel(), root.toString(), code, root);
        if (ctx.channel().parent() instanceof QuicChannel quic) {
            ByteBuf reason = Unpooled.copiedBuffer(code == Http3ErrorCode.QPACK_DECOMPRESSION_FAILED
                    ? "Decompression of header block failed." : "Frame could not be decoded.", CharsetUtil.US_ASCII);
            quic.close(true, code.code(), reason);
        } else {
            ctx.close();
        }
    }

    private static boolean thrownBy(Throwable t, String className) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (className.equals(e.getClassName())) {
                return true;
            }
        }
        return false;
    }
}
