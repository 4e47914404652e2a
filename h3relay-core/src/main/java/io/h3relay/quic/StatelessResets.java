package io.h3relay.quic;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.quic.QuicResetTokenGenerator;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Stateless reset tokens derived from a key ({@code http3.stateless_reset_key_file}): the token of a
 * connection id is the first 16 bytes of HMAC-SHA256(key, id), so every instance given the same key computes
 * the same token for any id (RFC 9000 §10.3.2). Netty's codec hands the tokens of the ids it issues to
 * {@link #newResetToken}; it never sends a Stateless Reset itself (a short-header packet for an unknown id
 * is dropped). With QUIC-LB ids, {@link #handler} sends one for a packet whose id names another server: a
 * client whose balancer lost track of it learns at once that the connection is gone rather than after its
 * idle timeout.
 */
public final class StatelessResets implements QuicResetTokenGenerator {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final SecretKeySpec key;
    private final AtomicLong sent = new AtomicLong();

    public StatelessResets(byte[] key) {
        this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
    }

    /** A random key: tokens valid for this process only (Netty's default behaves the same). */
    public static StatelessResets random() {
        byte[] k = new byte[32];
        RANDOM.nextBytes(k);
        return new StatelessResets(k);
    }

    @Override
    public ByteBuffer newResetToken(ByteBuffer cid) {
        return ByteBuffer.wrap(token(cid));
    }

    public byte[] token(ByteBuffer cid) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            mac.update(cid.duplicate());
            byte[] out = new byte[16];
            System.arraycopy(mac.doFinal(), 0, out, 0, 16);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Stateless resets sent so far. */
    public long sent() {
        return sent.get();
    }

    /** The handler to put in front of the QUIC codec of each UDP socket (not sharable: one per socket). */
    public ChannelInboundHandlerAdapter handler(QuicLbConnectionIds ids) {
        return new ResetHandler(ids);
    }

    private final class ResetHandler extends ChannelInboundHandlerAdapter {
        private final QuicLbConnectionIds ids;
        /** At most this many resets per second and socket: a reset must not become an amplifier. */
        private static final int PER_SECOND = 100;
        private long windowStart;
        private int inWindow;

        ResetHandler(QuicLbConnectionIds ids) {
            this.ids = ids;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof DatagramPacket p && foreign(p.content())) {
                ByteBuf in = p.content();
                byte[] cid = new byte[QuicLbConnectionIds.LENGTH];
                in.getBytes(in.readerIndex() + 1, cid);
                // Smaller than what triggered it (so two endpoints cannot loop), at least 21 bytes (RFC 9000 §10.3).
                int size = Math.min(in.readableBytes() - 1, 43);
                if (size >= 21 && allow()) {
                    byte[] out = new byte[size];
                    RANDOM.nextBytes(out);
                    out[0] = (byte) (0x40 | (out[0] & 0x3f)); // short header form, fixed bit set
                    System.arraycopy(token(ByteBuffer.wrap(cid)), 0, out, size - 16, 16);
                    sent.incrementAndGet();
                    ctx.writeAndFlush(new DatagramPacket(ctx.alloc().buffer(size).writeBytes(out), p.sender()));
                }
                p.release();
                return;
            }
            ctx.fireChannelRead(msg);
        }

        /** A short-header packet whose destination id is a QUIC-LB id of another server. */
        private boolean foreign(ByteBuf in) {
            int n = in.readableBytes();
            if (n < 1 + QuicLbConnectionIds.LENGTH + 1) {
                return false;
            }
            byte first = in.getByte(in.readerIndex());
            if ((first & 0x80) != 0 || (first & 0x40) == 0) {
                return false; // long header (handshakes), or not QUIC
            }
            // Read in place (this runs for every short-header datagram): the id's first byte is its QUIC-LB
            // config (config id 0, self-encoded length), the server id follows.
            int config = in.getByte(in.readerIndex() + 1);
            if ((config & 0xe0) != 0 || (config & 0x1f) != QuicLbConnectionIds.LENGTH - 1) {
                return false;
            }
            return !ids.isOurs(in, in.readerIndex() + 2);
        }

        private boolean allow() {
            long now = System.nanoTime();
            if (now - windowStart > 1_000_000_000L) {
                windowStart = now;
                inWindow = 0;
            }
            return ++inWindow <= PER_SECOND;
        }
    }
}
