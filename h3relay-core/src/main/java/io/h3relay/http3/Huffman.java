package io.h3relay.http3;

import io.netty.buffer.ByteBuf;

/**
 * The Huffman code of HPACK, which QPACK uses for its string literals (RFC 7541 Appendix B, RFC 9204 section
 * 4.1.2). The code is canonical: symbols ordered by code length, then by value, get consecutive codes, so the
 * table below holds only each symbol's code length (the RFC's table, symbol 0 to 255 and EOS); the codes are
 * derived from it. Decoding walks a binary tree built from the codes, one bit at a time.
 */
final class Huffman {
    private static final int EOS = 256;
    private static final byte[] LENGTHS = {
            13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
            28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
            6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
            5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
            13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
            7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
            15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
            6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
            20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
            24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
            22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
            21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
            26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
            19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
            20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
            26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
            30,
    };
    private static final int[] CODES = new int[257];
    /**
     * The decoding tree: node {@code n}'s children for bit 0 and 1 are at {@code 2n} and {@code 2n + 1}; a
     * positive entry is the child node, a negative one a leaf ({@code -1 - symbol}), 0 no code.
     */
    private static final int[] TREE = new int[2 * 256];

    static {
        Integer[] order = new Integer[257];
        for (int s = 0; s < 257; s++) {
            order[s] = s;
        }
        java.util.Arrays.sort(order, (a, b) -> LENGTHS[a] != LENGTHS[b] ? LENGTHS[a] - LENGTHS[b] : a - b);
        int code = 0;
        int length = LENGTHS[order[0]];
        for (int i = 0; i < 257; i++) {
            int s = order[i];
            if (i > 0) {
                code = (code + 1) << (LENGTHS[s] - length);
            }
            length = LENGTHS[s];
            CODES[s] = code;
        }
        int nodes = 1;
        for (int s = 0; s < 257; s++) {
            int node = 0;
            for (int bit = LENGTHS[s] - 1; bit > 0; bit--) {
                int slot = 2 * node + ((CODES[s] >>> bit) & 1);
                if (TREE[slot] == 0) {
                    TREE[slot] = nodes++;
                }
                node = TREE[slot];
            }
            TREE[2 * node + (CODES[s] & 1)] = -1 - s;
        }
    }

    private Huffman() {
    }

    /**
     * Decodes the {@code length} bytes of {@code in} from {@code index} into {@code out} (room for
     * {@link #maxDecodedLength} bytes); returns the decoded length, or -1 when the input is not a valid
     * encoding (EOS inside it, padding longer than 7 bits or not all ones: RFC 7541 section 5.2).
     */
    static int decode(ByteBuf in, int index, int length, byte[] out) {
        int node = 0;
        int bits = 0; // since the last symbol
        boolean ones = true; // those bits were all ones
        int n = 0;
        for (int i = index, end = index + length; i < end; i++) {
            int b = in.getByte(i);
            for (int shift = 7; shift >= 0; shift--) {
                int bit = (b >>> shift) & 1;
                int next = TREE[2 * node + bit];
                if (next == 0) {
                    return -1; // no code (the table is complete: not reached)
                }
                if (next < 0) {
                    int symbol = -1 - next;
                    if (symbol == EOS) {
                        return -1;
                    }
                    out[n++] = (byte) symbol;
                    node = 0;
                    bits = 0;
                    ones = true;
                } else {
                    node = next;
                    bits++;
                    ones &= bit == 1;
                }
            }
        }
        return bits > 7 || !ones ? -1 : n;
    }

    /** The most bytes {@code encodedLength} Huffman-coded bytes decode to (the shortest code is 5 bits). */
    static int maxDecodedLength(int encodedLength) {
        return encodedLength * 8 / 5;
    }

    /** The byte {@code c} is written as: a char above 0xFF as '?' (as Netty's AsciiString has it), never its low byte. */
    static int symbol(char c, boolean lowercase) {
        return c > 0xFF ? '?' : lowercase && c >= 'A' && c <= 'Z' ? c + 32 : c;
    }

    /**
     * The length of {@code s} Huffman-coded (each char taken as a byte, see {@link #symbol}; ASCII letters
     * lowercased when {@code lowercase}).
     */
    static int encodedLength(CharSequence s, boolean lowercase) {
        long bits = 0;
        for (int i = 0, n = s.length(); i < n; i++) {
            bits += LENGTHS[symbol(s.charAt(i), lowercase)];
        }
        return (int) ((bits + 7) >>> 3);
    }

    /** Writes {@code s} Huffman-coded (lowercased as above), padded with the most significant bits of EOS (ones). */
    static void encode(ByteBuf out, CharSequence s, boolean lowercase) {
        long acc = 0;
        int pending = 0; // bits of acc not written yet
        for (int i = 0, n = s.length(); i < n; i++) {
            int symbol = symbol(s.charAt(i), lowercase);
            acc = (acc << LENGTHS[symbol]) | CODES[symbol];
            pending += LENGTHS[symbol];
            while (pending >= 8) {
                pending -= 8;
                out.writeByte((int) (acc >>> pending));
            }
        }
        if (pending > 0) {
            out.writeByte((int) ((acc << (8 - pending)) | (0xFF >>> pending)));
        }
    }
}
