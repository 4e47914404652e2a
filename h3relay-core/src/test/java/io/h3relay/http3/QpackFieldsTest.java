package io.h3relay.http3;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http3.Http3ErrorCode;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** QPACK with the static table, Huffman strings and QUIC varints, against the RFCs' own examples. */
class QpackFieldsTest {
    private static ByteBuf hex(String hex) {
        return Unpooled.wrappedBuffer(HexFormat.of().parseHex(hex.replace(" ", "")));
    }

    private static String huffmanDecode(String hex) {
        ByteBuf in = hex(hex);
        byte[] out = new byte[Huffman.maxDecodedLength(in.readableBytes())];
        int n = Huffman.decode(in, 0, in.readableBytes(), out);
        return n < 0 ? null : new String(out, 0, n, StandardCharsets.ISO_8859_1);
    }

    private static String huffmanEncode(String s) {
        ByteBuf out = Unpooled.buffer();
        Huffman.encode(out, s, false);
        assertThat(out.readableBytes()).isEqualTo(Huffman.encodedLength(s, false));
        return HexFormat.of().formatHex(io.netty.buffer.ByteBufUtil.getBytes(out));
    }

    @Test
    void huffmanMatchesRfc7541AppendixC4() {
        String[][] vectors = {
            {"www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"},
            {"no-cache", "a8eb10649cbf"},
            {"custom-key", "25a849e95ba97d7f"},
            {"custom-value", "25a849e95bb8e8b4bf"},
        };
        for (String[] v : vectors) {
            assertThat(huffmanEncode(v[0])).as(v[0]).isEqualTo(v[1]);
            assertThat(huffmanDecode(v[1])).as(v[1]).isEqualTo(v[0]);
        }
    }

    @Test
    void huffmanRoundTripsEveryByte() {
        StringBuilder all = new StringBuilder();
        for (int c = 0; c < 256; c++) {
            all.append((char) c);
        }
        String s = all.toString();
        assertThat(huffmanDecode(huffmanEncode(s))).isEqualTo(s);
        ByteBuf lower = Unpooled.buffer();
        Huffman.encode(lower, "Content-Type", true);
        assertThat(huffmanDecode(HexFormat.of().formatHex(io.netty.buffer.ByteBufUtil.getBytes(lower))))
                .isEqualTo("content-type");
    }

    @Test
    void huffmanRefusesBadPaddingAndEos() {
        assertThat(huffmanDecode("18")).as("'a' (00011) padded with zeros").isNull();
        assertThat(huffmanDecode("1f")).as("'a' padded with ones").isEqualTo("a");
        assertThat(huffmanDecode("1fff")).as("padding longer than 7 bits").isNull();
        assertThat(huffmanDecode("fffffffc")).as("EOS (30 ones) in the string").isNull();
    }

    private static List<String> decode(ByteBuf section) throws Http3CodecException {
        List<String> fields = new ArrayList<>();
        QpackFields.decode(section, section.readerIndex(), section.readableBytes(),
                (name, value) -> fields.add(name + ": " + value));
        return fields;
    }

    @Test
    void decodesRfc9204AppendixB1() throws Exception {
        // Literal Field Line with Name Reference: static index 1 (:path), value "/index.html"
        assertThat(decode(hex("0000 510b 2f69 6e64 6578 2e68 746d 6c"))).containsExactly(":path: /index.html");
    }

    @Test
    void decodesIndexedAndLiteralNameLines() throws Exception {
        // :method GET (index 17), :scheme https (23), a literal name "x-a" with "b", :path (1) with a Huffman value
        assertThat(decode(hex("0000 d1 d7 23782d61 0162 5186a8eb10649cbf")))
                .containsExactly(":method: GET", ":scheme: https", "x-a: b", ":path: no-cache");
    }

    @Test
    void refusesWhatNeedsADynamicTableOrIsCutShort() {
        String[][] bad = {
            {"00", "shorter than the prefix"},
            {"0200 d1", "Required Insert Count 1"},
            {"0000 81", "a dynamic index"},
            {"0000 ff24", "static index 99 (out of range)"},
            {"0000 10", "indexed post-base"},
            {"0000 00", "literal with a post-base name reference"},
            {"0000 51 0b 2f69", "a value running past the section"},
            {"0000 3f", "an integer cut off"},
            {"0000 ff ff ff ff ff 0f", "an integer over 2^31"},
            {"0000 51 81 18", "a Huffman value with zero padding"},
        };
        for (String[] b : bad) {
            assertThatThrownBy(() -> decode(hex(b[0]))).as(b[1]).isInstanceOfSatisfying(Http3CodecException.class,
                    e -> assertThat(e.code()).isEqualTo(Http3ErrorCode.QPACK_DECOMPRESSION_FAILED));
        }
    }

    @Test
    void writesWhatItReads() throws Exception {
        ByteBuf out = Unpooled.buffer();
        QpackFields.writePrefix(out);
        QpackFields.writeStatus(out, 200);
        QpackFields.writeStatus(out, 418);
        QpackFields.writeField(out, "Content-Type", "text/plain");   // whole field in the table (53)
        QpackFields.writeField(out, "content-length", "12345");      // the table's name (4)
        QpackFields.writeField(out, "X-Request-Id", "abc");          // a literal name, lowercased
        String long300 = "v".repeat(300);
        QpackFields.writeField(out, "x-long", long300);               // a length over the 7-bit prefix
        QpackFields.writeField(out, "x-bytes", "\u00e9\u0001z");     // bytes Huffman would lengthen
        QpackFields.writeField(out, "x-wide", "a\u010ab");           // not a byte: '?', never its low byte (LF)
        assertThat(decode(out)).containsExactly(":status: 200", ":status: 418", "content-type: text/plain",
                "content-length: 12345", "x-request-id: abc", "x-long: " + long300, "x-bytes: \u00e9\u0001z",
                "x-wide: a?b");
    }

    @Test
    void prefixedIntegersAtTheirBoundaries() throws Exception {
        for (int value : new int[] {0, 62, 63, 64, 127, 128, 16_383, 1 << 20}) {
            ByteBuf out = Unpooled.buffer();
            QpackFields.writeInt(out, 0x40, 6, value);
            int first = out.getByte(0) & 0xFF;
            assertThat(first & 0xC0).isEqualTo(0x40);
            int v = first & 0x3F;
            if (v == 0x3F) {
                int shift = 0;
                for (int i = 1; i < out.writerIndex(); i++) {
                    v += (out.getByte(i) & 0x7F) << shift;
                    shift += 7;
                }
            }
            assertThat(v).as("value %d", value).isEqualTo(value);
        }
    }

    @Test
    void varintsRoundTripInTheirFourSizes() {
        for (long value : new long[] {0, 63, 64, 16_383, 16_384, (1L << 30) - 1, 1L << 30, (1L << 62) - 1}) {
            ByteBuf out = Unpooled.buffer();
            Http3Frames.writeVarint(out, value);
            assertThat(out.readableBytes()).isEqualTo(Http3Frames.varintSize(value))
                    .isEqualTo(Http3Frames.varintLength(out.getByte(0)));
            assertThat(Http3Frames.getVarint(out, 0)).isEqualTo(value);
        }
    }

    @Test
    void frameTypesForbiddenOnARequestStream() {
        for (long t : new long[] {0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0x8, 0x9, 0xD}) {
            assertThat(Http3Frames.forbiddenOnRequestStream(t)).as("0x%x", t).isTrue();
        }
        for (long t : new long[] {0x0, 0x1, 0xA, 0xB, 0xC, 0xE, 0x21, 0x1F * 3 + 0x21}) {
            assertThat(Http3Frames.forbiddenOnRequestStream(t)).as("0x%x", t).isFalse();
        }
    }
}
