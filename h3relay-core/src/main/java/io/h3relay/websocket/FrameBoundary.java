package io.h3relay.websocket;

import io.netty.buffer.ByteBuf;

/**
 * Follows the WebSocket frames (RFC 6455 section 5.2) of one direction of a relayed session without
 * decoding or holding them: only the header's lengths are read, to know whether the bytes relayed so far end
 * on a frame boundary. That is where h3relay may put a frame of its own (a Close, see {@link CloseFrames})
 * into the stream without corrupting the frame it would otherwise cut. Control frames may come between the
 * fragments of a message (section 5.4), so any boundary will do. Reads the buffer's bytes without moving
 * its reader index.
 */
public final class FrameBoundary {
    /** The header so far (2 to 14 bytes: 2, the 16- or 64-bit extended length, the masking key). */
    private final byte[] head = new byte[14];
    private int headLength;
    /** Payload bytes of the current frame still to come. */
    private long payloadLeft;

    /**
     * The next bytes of the direction, as relayed. A frame whose header lies whole in {@code bytes} (the usual
     * case) costs one or two reads of the buffer and a jump over its payload; only a header cut between two
     * reads is gathered byte by byte.
     */
    public void feed(ByteBuf bytes) {
        int i = bytes.readerIndex();
        int end = bytes.writerIndex();
        while (i < end) {
            if (payloadLeft > 0) {
                int n = (int) Math.min(payloadLeft, end - i);
                payloadLeft -= n;
                i += n;
                continue;
            }
            if (headLength == 0 && end - i >= 2) {
                int b1 = bytes.getByte(i + 1);
                int len7 = b1 & 0x7f;
                int size = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((b1 & 0x80) != 0 ? 4 : 0);
                if (end - i >= size) { // the header is whole here: its lengths are read in place
                    long n = len7 < 126 ? len7 : len7 == 126 ? bytes.getUnsignedShort(i + 2) : bytes.getLong(i + 2);
                    payloadLeft = n < 0 ? Long.MAX_VALUE : n; // as payloadSize()
                    i += size;
                    continue;
                }
            }
            head[headLength++] = bytes.getByte(i++);
            if (headLength >= 2 && headLength == headerSize()) {
                payloadLeft = payloadSize();
                headLength = 0;
            }
        }
    }

    /** True when the bytes so far end with a whole frame (or none came). */
    public boolean atBoundary() {
        return headLength == 0 && payloadLeft == 0;
    }

    private int headerSize() {
        int len7 = head[1] & 0x7f;
        int size = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
        return (head[1] & 0x80) != 0 ? size + 4 : size;
    }

    private long payloadSize() {
        int len7 = head[1] & 0x7f;
        if (len7 < 126) {
            return len7;
        }
        long n = 0;
        int bytes = len7 == 126 ? 2 : 8;
        for (int k = 0; k < bytes; k++) {
            n = (n << 8) | (head[2 + k] & 0xff);
        }
        return n < 0 ? Long.MAX_VALUE : n; // a 64-bit length with the top bit set is invalid: never a boundary again
    }
}
