package io.h3relay.listener.h3;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.quic.QuicStreamChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a request stream once the client has stopped it (STOP_SENDING, e.g. a cancelled fetch), so the
 * proxy cancels the upstream attempt as it does on an h2 RST_STREAM.
 *
 * <p>Netty 4.2.18 does not report that by itself. quiche answers STOP_SENDING with a RESET_STREAM; a request
 * stream whose request was read to the end is then complete and quiche forgets it. From then on a write to
 * it gets quiche's "done" (the same answer as "no flow-control credit"): Netty queues the write, marks the
 * stream unwritable and never completes the write, and no event follows. Only a write that finds the stream
 * stopped but not yet forgotten fails (and ends the exchange through {@code exceptionCaught}).
 *
 * <p>The forgotten stream is recognisable: when flow control blocks a write, Netty has just read the
 * stream's capacity as 0; for a stream quiche no longer knows, that read fails and the last positive
 * capacity stays. So a stream that turns unwritable while {@link QuicStreamChannel#bytesBeforeUnwritable()}
 * is still positive is gone. This is checked on writability changes only, nothing per write.
 */
final class Http3StreamStopDetector extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(Http3StreamStopDetector.class);

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel() instanceof QuicStreamChannel stream && !stream.isWritable()
                && stream.bytesBeforeUnwritable() > 0 && stream.isActive()) {
            LOG.debug("h3 stream {} was stopped by the client; closing it", stream);
            stream.close();
            return;
        }
        ctx.fireChannelWritabilityChanged();
    }
}
