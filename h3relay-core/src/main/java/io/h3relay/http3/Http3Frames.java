package io.h3relay.http3;

import io.netty.buffer.ByteBuf;

/** HTTP/3 frame types and QUIC's variable-length integers (RFC 9114 section 7, RFC 9000 section 16). */
public final class Http3Frames {
    public static final int DATA = 0x0;
    public static final int HEADERS = 0x1;

    private Http3Frames() {
    }

    /**
     * Whether a frame of {@code type} is forbidden on a request stream (RFC 9114 sections 7.2 and 11.2.1):
     * CANCEL_PUSH, SETTINGS, PUSH_PROMISE (from a client), GOAWAY, MAX_PUSH_ID, and the HTTP/2 types HTTP/3
     * reserves (0x2, 0x6, 0x8, 0x9). Unknown types are not: they are skipped.
     */
    public static boolean forbiddenOnRequestStream(long type) {
        return type >= 0x2 && type <= 0xD && type != 0xA && type != 0xB && type != 0xC;
    }

    /** The length in bytes of the variable-length integer whose first byte is {@code first}. */
    public static int varintLength(int first) {
        return 1 << ((first & 0xC0) >>> 6);
    }

    /** The variable-length integer at {@code index} of {@code in} (its whole length must be readable there). */
    public static long getVarint(ByteBuf in, int index) {
        int first = in.getByte(index) & 0xFF;
        return switch (first >>> 6) {
            case 0 -> first;
            case 1 -> in.getShort(index) & 0x3FFF;
            case 2 -> in.getInt(index) & 0x3FFF_FFFFL;
            default -> in.getLong(index) & 0x3FFF_FFFF_FFFF_FFFFL;
        };
    }

    /** The bytes {@code value} takes as a variable-length integer (at most 2^62 - 1). */
    public static int varintSize(long value) {
        return value < 0x40 ? 1 : value < 0x4000 ? 2 : value < 0x4000_0000L ? 4 : 8;
    }

    public static void writeVarint(ByteBuf out, long value) {
        switch (varintSize(value)) {
            case 1 -> out.writeByte((int) value);
            case 2 -> out.writeShort((int) value | 0x4000);
            case 4 -> out.writeInt((int) value | 0x8000_0000);
            default -> out.writeLong(value | 0xC000_0000_0000_0000L);
        }
    }
}
