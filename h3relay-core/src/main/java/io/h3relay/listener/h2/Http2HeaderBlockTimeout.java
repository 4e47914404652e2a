package io.h3relay.listener.h2;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * h2 slowloris: a header block (HEADERS without END_HEADERS, then CONTINUATION frames) kept open by a
 * trickle of frames. The connection is never idle and no stream exists until the block ends, so neither
 * keep_alive_timeout nor anything per stream sees it; the codec only bounds the block's size (fragments of
 * at least 8 KiB, 1.25 x SETTINGS_MAX_HEADER_LIST_SIZE in all), which a client can spread over minutes. This
 * handler sits on the raw bytes in front of the codec, follows the frame boundaries (the 9-byte frame
 * headers; payloads are skipped, not copied), and closes the connection when one header block stays open
 * longer than {@code limits.request_headers_timeout}, the h1 head timeout. A timer exists only while a block
 * is open across frames (a HEADERS frame with END_HEADERS, the usual case, costs none).
 */
final class Http2HeaderBlockTimeout extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(Http2HeaderBlockTimeout.class);
    /** The client connection preface, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" (RFC 9113 section 3.4). */
    private static final int PREFACE_LENGTH = 24;
    private static final int HEADERS = 0x1;
    private static final int PUSH_PROMISE = 0x5;
    private static final int CONTINUATION = 0x9;
    private static final int END_HEADERS = 0x4;

    private final long timeoutNanos;
    private long prefaceLeft;
    private final byte[] header = new byte[9];
    private int headerFilled;
    private long payloadLeft;
    private ScheduledFuture<?> timer;

    /** @param preface whether the client preface is still to come through this handler */
    Http2HeaderBlockTimeout(long timeoutNanos, boolean preface) {
        this.timeoutNanos = timeoutNanos;
        this.prefaceLeft = preface ? PREFACE_LENGTH : 0;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            scan(ctx, buf);
        }
        ctx.fireChannelRead(msg);
    }

    private void scan(ChannelHandlerContext ctx, ByteBuf buf) {
        int i = buf.readerIndex();
        int end = buf.writerIndex();
        while (i < end) {
            if (prefaceLeft > 0) {
                int n = (int) Math.min(prefaceLeft, end - i);
                prefaceLeft -= n;
                i += n;
            } else if (payloadLeft > 0) {
                int n = (int) Math.min(payloadLeft, end - i);
                payloadLeft -= n;
                i += n;
            } else {
                header[headerFilled++] = buf.getByte(i++);
                if (headerFilled == header.length) {
                    headerFilled = 0;
                    frameHeader(ctx);
                }
            }
        }
    }

    private void frameHeader(ChannelHandlerContext ctx) {
        payloadLeft = (header[0] & 0xffL) << 16 | (header[1] & 0xff) << 8 | (header[2] & 0xff);
        int type = header[3] & 0xff;
        boolean endHeaders = (header[4] & END_HEADERS) != 0;
        if ((type == HEADERS || type == PUSH_PROMISE) && !endHeaders && timer == null) {
            timer = ctx.executor().schedule(() -> expired(ctx), timeoutNanos, TimeUnit.NANOSECONDS);
        } else if (type == CONTINUATION && endHeaders && timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void expired(ChannelHandlerContext ctx) {
        timer = null;
        LOG.debug("h2 connection {}: header block open longer than request_headers_timeout, closing", ctx.channel());
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        ctx.fireChannelInactive();
    }
}
