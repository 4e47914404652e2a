package io.h3relay.listener.h3;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http3.Http3Exception;
import io.netty.handler.codec.quic.QuicException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a QUIC connection. When quiche refuses what a peer sent (an Initial that does not
 * decrypt: {@code QUICHE_ERR_CRYPTO_FAIL}, a TLS alert, a transport error), Netty fires the exception down
 * the connection's pipeline, where nothing handled it: every such packet logged "exceptionCaught() reached the
 * tail of the pipeline" at WARN with a stack trace. With {@code http3.retry} off, anyone can send such
 * Initials from spoofed addresses, so that was a log flood (found by {@code it/QuicInitialFloodTest}: 1,000
 * packets, 3 MB of log). Peer-caused QUIC, TLS and HTTP/3 connection errors end here at DEBUG; anything else
 * at WARN. Neither closes the connection: as before, quiche decides (an Initial that does not decrypt leaves a
 * connection that never completes its handshake and ends at its timeout; a bad packet on a live connection,
 * for example from a path being migrated, is dropped and the connection goes on).
 */
@ChannelHandler.Sharable
final class QuicConnectionErrors extends ChannelInboundHandlerAdapter {
    static final QuicConnectionErrors INSTANCE = new QuicConnectionErrors();
    private static final Logger LOG = LoggerFactory.getLogger(QuicConnectionErrors.class);

    private QuicConnectionErrors() {
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof QuicException || cause instanceof SSLException || cause instanceof Http3Exception
                || cause.getCause() instanceof QuicException) {
            LOG.debug("QUIC connection error from {}: {}", ctx.channel().remoteAddress(), cause.toString());
            return;
        }
        LOG.warn("QUIC connection from {} failed", ctx.channel().remoteAddress(), cause);
    }
}
