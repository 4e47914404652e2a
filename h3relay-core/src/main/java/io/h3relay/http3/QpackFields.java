package io.h3relay.http3;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.util.AsciiString;

/**
 * QPACK field sections (RFC 9204) with the static table only: what a server that advertises a dynamic table
 * capacity of 0 (SETTINGS_QPACK_MAX_TABLE_CAPACITY absent) reads, and what it writes when it never inserts into
 * the client's table. A section that refers to a dynamic table (a Required Insert Count above 0, a dynamic or
 * post-base index) cannot be decoded: QPACK_DECOMPRESSION_FAILED, a connection error (RFC 9204 sections 2.2.3
 * and 4.5.1.1), as is any section that ends inside a field line or has a bad Huffman string.
 *
 * <p>Written: the static table's index for a whole field when it has one, else a literal with the table's name
 * when it has the name, else a literal name (lowercased); each string Huffman-coded when that is shorter.
 * The Never-Indexed bit is never set: nothing is indexed anywhere.
 */
public final class QpackFields {
    /** Takes a section's fields, in order. */
    public interface Sink {
        void field(AsciiString name, AsciiString value);
    }

    private final ByteBuf in;
    private int at;
    private final int end;
    private byte[] scratch;

    private QpackFields(ByteBuf in, int index, int length) {
        this.in = in;
        this.at = index;
        this.end = index + length;
    }

    /** Decodes the field section in the {@code length} bytes of {@code in} from {@code index} into {@code sink}. */
    public static void decode(ByteBuf in, int index, int length, Sink sink) throws Http3CodecException {
        new QpackFields(in, index, length).decode(sink);
    }

    private void decode(Sink sink) throws Http3CodecException {
        if (end - at < 2) {
            throw failed("field section shorter than its prefix");
        }
        if (readInt(8) != 0) {
            throw failed("Required Insert Count above 0 with a dynamic table capacity of 0");
        }
        readInt(7); // Delta Base (and its sign): no base without a dynamic table
        while (at < end) {
            int b = in.getByte(at) & 0xFF;
            if ((b & 0x80) != 0) { // indexed field line
                int index = staticIndex(b & 0x40, readInt(6));
                sink.field(StaticTable.name(index), StaticTable.value(index));
            } else if ((b & 0xC0) == 0x40) { // literal with a name reference
                int index = staticIndex(b & 0x10, readInt(4));
                sink.field(StaticTable.name(index), readString(7));
            } else if ((b & 0xE0) == 0x20) { // literal with a literal name
                AsciiString name = readString(3);
                sink.field(name, readString(7));
            } else {
                throw failed("post-base reference without a dynamic table");
            }
        }
    }

    private int staticIndex(int staticBit, int index) throws Http3CodecException {
        if (staticBit == 0) {
            throw failed("dynamic table reference with a dynamic table capacity of 0");
        }
        if (index >= StaticTable.SIZE) {
            throw failed("static table index " + index + " out of range");
        }
        return index;
    }

    /** An integer with an {@code prefix}-bit prefix (RFC 9204 section 4.1.1), at most 2^31 - 1. */
    private int readInt(int prefix) throws Http3CodecException {
        if (at >= end) {
            throw failed("field section ends inside an integer");
        }
        int mask = (1 << prefix) - 1;
        int value = in.getByte(at++) & mask;
        if (value < mask) {
            return value;
        }
        long sum = mask;
        for (int shift = 0; shift <= 28; shift += 7) {
            if (at >= end) {
                throw failed("field section ends inside an integer");
            }
            int b = in.getByte(at++) & 0xFF;
            sum += (long) (b & 0x7F) << shift;
            if (sum > Integer.MAX_VALUE) {
                break;
            }
            if ((b & 0x80) == 0) {
                return (int) sum;
            }
        }
        throw failed("integer too large");
    }

    /** A string literal whose Huffman flag is the bit above its length's {@code prefix}-bit prefix. */
    private AsciiString readString(int prefix) throws Http3CodecException {
        boolean huffman = at < end && (in.getByte(at) & (1 << prefix)) != 0;
        int length = readInt(prefix);
        if (length > end - at) {
            throw failed("string literal runs past the field section");
        }
        int start = at;
        at += length;
        if (length == 0) {
            return AsciiString.EMPTY_STRING;
        }
        if (!huffman) {
            byte[] bytes = new byte[length];
            in.getBytes(start, bytes);
            return new AsciiString(bytes, false);
        }
        int max = Huffman.maxDecodedLength(length);
        if (scratch == null || scratch.length < max) {
            scratch = new byte[Math.max(64, max)];
        }
        int n = Huffman.decode(in, start, length, scratch);
        if (n < 0) {
            throw failed("bad Huffman string");
        }
        return new AsciiString(scratch, 0, n, true);
    }

    private static Http3CodecException failed(String why) {
        return new Http3CodecException(Http3ErrorCode.QPACK_DECOMPRESSION_FAILED, why);
    }

    // ------------------------------------------------------------------ writing

    /** The section prefix: Required Insert Count 0, Delta Base 0. */
    public static void writePrefix(ByteBuf out) {
        out.writeShort(0);
    }

    /** {@code :status}. */
    public static void writeStatus(ByteBuf out, int code) {
        int index = StaticTable.status(code);
        if (index >= 0) {
            writeInt(out, 0xC0, 6, index);
        } else {
            writeInt(out, 0x50, 4, StaticTable.STATUS_103); // the name of :status 103
            out.writeByte(3);
            out.writeByte('0' + code / 100 % 10);
            out.writeByte('0' + code / 10 % 10);
            out.writeByte('0' + code % 10);
        }
    }

    /** One field; {@code name} in any case (written lowercase). */
    public static void writeField(ByteBuf out, CharSequence name, CharSequence value) {
        int index = StaticTable.find(name, value);
        if (index >= 0) {
            writeInt(out, 0xC0, 6, index);
            return;
        }
        if (index < -1) {
            writeInt(out, 0x50, 4, -2 - index);
        } else {
            writeString(out, 0x20, 3, name, true);
        }
        writeString(out, 0x00, 7, value, false);
    }

    /** A string literal after {@code flags}, Huffman-coded (its flag above the prefix) when that is shorter. */
    private static void writeString(ByteBuf out, int flags, int prefix, CharSequence s, boolean lowercase) {
        int length = s.length();
        int coded = Huffman.encodedLength(s, lowercase);
        if (coded < length) {
            writeInt(out, flags | (1 << prefix), prefix, coded);
            Huffman.encode(out, s, lowercase);
            return;
        }
        writeInt(out, flags, prefix, length);
        for (int i = 0; i < length; i++) {
            out.writeByte(Huffman.symbol(s.charAt(i), lowercase));
        }
    }

    /** An integer with a {@code prefix}-bit prefix, the first byte's higher bits {@code flags}. */
    static void writeInt(ByteBuf out, int flags, int prefix, int value) {
        int max = (1 << prefix) - 1;
        if (value < max) {
            out.writeByte(flags | value);
            return;
        }
        out.writeByte(flags | max);
        int rest = value - max;
        while (rest >= 0x80) {
            out.writeByte((rest & 0x7F) | 0x80);
            rest >>>= 7;
        }
        out.writeByte(rest);
    }
}
