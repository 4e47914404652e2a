package io.h3relay.quic;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.quic.QuicConnectionIdGenerator;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Connection ids in the plaintext format of QUIC-LB (draft-ietf-quic-load-balancers, "plaintext CID
 * algorithm"), so a QUIC-LB-aware layer-4 balancer routes every packet of a connection, after a migration
 * too, to the instance that issued the id:
 * <pre>
 *   first octet: config id (3 bits, 0) | id length - 1 (5 bits, self-encoded length)
 *   server id   (http3.server_id, 1-13 bytes)
 *   socket index (2 bytes: which SO_REUSEPORT socket of this instance owns the connection)
 *   nonce       (random, the rest: at least 4 bytes)
 * </pre>
 * The socket index takes the place Netty's {@code QuicCodecDispatcher} gives it at the front of the id;
 * {@link #socketIndex} reads it back for the dispatcher.
 */
public final class QuicLbConnectionIds implements QuicConnectionIdGenerator {
    /** Netty's and quiche's maximum, the length our ids always have. */
    public static final int LENGTH = 20;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] serverId;
    private final int socketIndex;

    public QuicLbConnectionIds(byte[] serverId, int socketIndex) {
        if (serverId.length < 1 || serverId.length > 13) {
            throw new IllegalArgumentException("server id of 1-13 bytes, not " + serverId.length);
        }
        this.serverId = serverId.clone();
        this.socketIndex = socketIndex;
    }

    public static byte[] parseServerId(String hex) {
        return HexFormat.of().parseHex(hex);
    }

    @Override
    public ByteBuffer newId(int length) {
        if (length != LENGTH) {
            throw new IllegalArgumentException("connection ids of " + LENGTH + " bytes, not " + length);
        }
        byte[] id = new byte[LENGTH];
        RANDOM.nextBytes(id);
        id[0] = (byte) ((LENGTH - 1) & 0x1f); // config id 0, self-encoded length
        System.arraycopy(serverId, 0, id, 1, serverId.length);
        id[1 + serverId.length] = (byte) (socketIndex >>> 8);
        id[2 + serverId.length] = (byte) socketIndex;
        return ByteBuffer.wrap(id);
    }

    @Override
    public ByteBuffer newId(ByteBuffer input, int length) {
        return newId(length);
    }

    @Override
    public ByteBuffer newId(ByteBuffer scid, ByteBuffer dcid, int length) {
        return newId(length);
    }

    @Override
    public int maxConnectionIdLength() {
        return LENGTH;
    }

    @Override
    public boolean isIdempotent() {
        return false;
    }

    /** The socket index in {@code id} (a destination connection id), or -1 when it is not one of ours. */
    public static int socketIndex(ByteBuf id, int serverIdLength) {
        int at = id.readerIndex() + 1 + serverIdLength;
        if (id.readableBytes() < 3 + serverIdLength) {
            return -1;
        }
        return id.getUnsignedShort(at);
    }

    /** Whether the bytes of {@code buf} at {@code index} are this server's id (nothing copied). */
    public boolean isOurs(io.netty.buffer.ByteBuf buf, int index) {
        for (int i = 0; i < serverId.length; i++) {
            if (buf.getByte(index + i) != serverId[i]) {
                return false;
            }
        }
        return true;
    }
}
