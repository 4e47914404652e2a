package io.h3relay.quic;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import java.util.concurrent.atomic.LongAdder;

/**
 * Drops, in front of Netty's QUIC codec, every datagram under 1200 bytes that could start a connection:
 * a long-header packet of QUIC v1 of type Initial, or of a version we do not speak (which the codec would
 * answer with Version Negotiation). RFC 9000 section 14.1: a server MUST discard an Initial carried in a
 * datagram smaller than 1200 bytes, and must not answer one either; clients pad every datagram that carries
 * an Initial to 1200 bytes.
 *
 * <p>Netty's server codec (4.2.18) answers a token-less Initial with a Retry, and an unknown version with
 * Version Negotiation, before quiche sees the datagram and without looking at its size: a 40-byte spoofed
 * Initial got a Retry (with our token) several times its size back, more than the 3x anti-amplification
 * bound of RFC 9000 section 8.1 (found by {@code it/QuicInitialFloodTest}).
 */
@ChannelHandler.Sharable
public final class SmallInitialFilter extends ChannelInboundHandlerAdapter {
    /** RFC 9000 section 14.1: the smallest datagram that may carry a client's Initial. */
    public static final int MIN_INITIAL_DATAGRAM = 1200;
    private static final int QUIC_V1 = 0x00000001;

    private final LongAdder dropped = new LongAdder();

    /** Datagrams dropped so far. */
    public long dropped() {
        return dropped.sum();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof DatagramPacket packet && mustDrop(packet.content())) {
            dropped.increment();
            packet.release();
            return;
        }
        ctx.fireChannelRead(msg);
    }

    /** Whether a datagram with these bytes is a too-small first packet of a connection. */
    static boolean mustDrop(ByteBuf datagram) {
        int length = datagram.readableBytes();
        if (length >= MIN_INITIAL_DATAGRAM) {
            return false;
        }
        if (length < 1) {
            return true;
        }
        int first = datagram.getUnsignedByte(datagram.readerIndex());
        if ((first & 0x80) == 0) {
            return false; // short header: an established connection's packet
        }
        if (length < 5) {
            return true; // a long header without a whole version
        }
        int version = datagram.getInt(datagram.readerIndex() + 1);
        if (version != QUIC_V1) {
            return true; // unknown version (or a Version Negotiation packet, which clients never send)
        }
        return (first & 0x30) == 0x00; // v1 long packet type 0: Initial
    }
}
