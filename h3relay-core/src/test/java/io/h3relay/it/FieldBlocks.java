package io.h3relay.it;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Field sections as an attacker writes them: every field a literal with a literal name, no Huffman, in the
 * order given, with whatever bytes the name and value hold (upper case, CR, LF, NUL, a pseudo-header after
 * a regular one). Netty's encoders would refuse or reorder these, so the smuggling tests encode by hand:
 * HPACK (RFC 7541 section 6.2.2, literal without indexing, new name) for h2, QPACK (RFC 9204 section
 * 4.5.6, literal with literal name, no dynamic table) for h3, and the HTTP/3 frame layout (RFC 9114 section
 * 7.1) around them.
 */
final class FieldBlocks {
    private FieldBlocks() {
    }

    /** An HPACK header block: each field {@code 0x00, name, value}. */
    static byte[] hpack(List<String[]> fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String[] f : fields) {
            out.write(0x00);
            string(out, 7, 0x00, f[0]);
            string(out, 7, 0x00, f[1]);
        }
        return out.toByteArray();
    }

    /** A QPACK field section: the prefix (no dynamic table: 0, 0), then each field {@code 001N H len name, value}. */
    static byte[] qpack(List<String[]> fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x00);
        out.write(0x00);
        for (String[] f : fields) {
            string(out, 3, 0x20, f[0]);
            string(out, 7, 0x00, f[1]);
        }
        return out.toByteArray();
    }

    /** An HTTP/3 frame: type and length as QUIC variable-length integers, then the payload. */
    static byte[] h3Frame(int type, byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        varint(out, type);
        varint(out, payload.length);
        out.writeBytes(payload);
        return out.toByteArray();
    }

    /** The types of the whole frames in {@code stream}, in order. */
    static List<Long> h3FrameTypes(byte[] stream) {
        List<Long> types = new ArrayList<>();
        eachH3Frame(stream, (type, at, length) -> types.add(type));
        return types;
    }

    /** The payloads of the DATA frames (type 0) in {@code stream}, concatenated; other frames skipped. */
    static String h3Data(byte[] stream) {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        eachH3Frame(stream, (type, at, length) -> {
            if (type == 0) {
                data.write(stream, at, length);
            }
        });
        return data.toString(StandardCharsets.UTF_8);
    }

    private interface H3FrameVisitor {
        /** A whole frame of {@code type} whose payload is {@code length} bytes from {@code at}. */
        void frame(long type, int at, int length);
    }

    /** Walks the whole frames of {@code stream}; a frame cut off at the end (by a reset) is left out. */
    private static void eachH3Frame(byte[] stream, H3FrameVisitor visitor) {
        int[] at = {0};
        while (at[0] < stream.length) {
            long type = readVarint(stream, at);
            long length = readVarint(stream, at);
            if (at[0] + length > stream.length) {
                break;
            }
            visitor.frame(type, at[0], (int) length);
            at[0] += (int) length;
        }
    }

    private static void string(ByteArrayOutputStream out, int prefixBits, int flags, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
        integer(out, prefixBits, flags, bytes.length);
        out.writeBytes(bytes);
    }

    /** RFC 7541 section 5.1 prefixed integer (QPACK uses the same). */
    private static void integer(ByteArrayOutputStream out, int prefixBits, int flags, int value) {
        int max = (1 << prefixBits) - 1;
        if (value < max) {
            out.write(flags | value);
            return;
        }
        out.write(flags | max);
        value -= max;
        while (value >= 128) {
            out.write((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        out.write(value);
    }

    private static void varint(ByteArrayOutputStream out, long v) {
        if (v < 64) {
            out.write((int) v);
        } else if (v < 16384) {
            out.write((int) (0x40 | (v >> 8)));
            out.write((int) (v & 0xff));
        } else {
            out.write((int) (0x80 | (v >> 24)));
            out.write((int) ((v >> 16) & 0xff));
            out.write((int) ((v >> 8) & 0xff));
            out.write((int) (v & 0xff));
        }
    }

    private static long readVarint(byte[] b, int[] at) {
        int first = b[at[0]] & 0xff;
        int len = 1 << (first >> 6);
        long v = first & 0x3f;
        for (int i = 1; i < len && at[0] + i < b.length; i++) {
            v = (v << 8) | (b[at[0] + i] & 0xff);
        }
        at[0] += len;
        return v;
    }
}
