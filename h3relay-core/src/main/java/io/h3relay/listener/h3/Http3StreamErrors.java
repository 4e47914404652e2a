package io.h3relay.listener.h3;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http3.Http3Exception;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends a request stream's HTTP/3 errors from client input quietly. Netty's frame codec has already answered
 * them (a connection error closes the QUIC connection with its code, for example a field section over
 * SETTINGS_MAX_FIELD_SECTION_SIZE or DATA before HEADERS) and then passes the exception on, where Netty's
 * {@code Http3FrameToHttpObjectCodec} would log it at ERROR: one log line per bad client frame is a log
 * flood anyone can start. Here it is a DEBUG line, and nothing else changes (the adapter does nothing more
 * than log either). Asked by {@link Http3RequestStreamGuard}, in front of the adapter.
 */
final class Http3StreamErrors {
    private static final Logger LOG = LoggerFactory.getLogger(Http3StreamErrors.class);

    private Http3StreamErrors() {
    }

    /** True when {@code cause} was an HTTP/3 error Netty's codec has answered already (logged at DEBUG here). */
    static boolean quiet(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http3Exception e) {
            // What Netty's adapter does too, minus its ERROR line: the codec has acted on the error already.
            LOG.debug("h3 stream {}: {} from client input", ctx.channel(), e.errorCode(), e);
            return true;
        }
        return false;
    }
}
