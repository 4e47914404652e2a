package io.h3relay.policy.compression;

import com.aayushatharva.brotli4j.decoder.BrotliInputStream;
import com.aayushatharva.brotli4j.decoder.DecoderJNI;
import java.nio.ByteBuffer;
import com.github.luben.zstd.ZstdInputStream;
import io.h3relay.config.CompressionConfig.Algorithm;
import io.h3relay.config.CompressionConfig.Encoding;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Each encoder, fed part by part, produces a stream the coding's reference decoder reads back whole. */
class StreamEncoderTest {
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    static byte[] text(int n, long seed) {
        String[] words = {"alpha ", "beta ", "gamma ", "delta ", "proxy ", "quic ", "stream ", "header\n"};
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder(n + 16);
        while (sb.length() < n) {
            sb.append(words[r.nextInt(words.length)]);
        }
        return sb.substring(0, n).getBytes(StandardCharsets.US_ASCII);
    }

    static StreamEncoder encoder(Algorithm a, int level) {
        return switch (a) {
            case GZIP -> new GzipEncoder(level);
            case BROTLI -> new BrotliEncoder(level);
            case ZSTD -> new ZstdEncoder(level);
        };
    }

    static byte[] decode(Algorithm a, byte[] encoded) throws Exception {
        InputStream in = new ByteArrayInputStream(encoded);
        InputStream d = switch (a) {
            case GZIP -> new GZIPInputStream(in);
            case BROTLI -> new BrotliInputStream(in);
            case ZSTD -> new ZstdInputStream(in);
        };
        try (d) {
            return d.readAllBytes();
        }
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void partsOfEverySizeRoundTrip(Algorithm a) throws Exception {
        byte[] body = text(700_000, 7);
        StreamEncoder enc = encoder(a, a.defaultLevel);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] sizes = {1, 0, 17, 8192, 65536, 200_000, 3, 100_000};
        int off = 0;
        int i = 0;
        while (off < body.length) {
            int n = Math.min(sizes[i++ % sizes.length], body.length - off);
            // heap and direct inputs both (h1 parts are direct, local responses heap)
            ByteBuf in = i % 2 == 0 ? Unpooled.wrappedBuffer(body, off, n) : ALLOC.directBuffer(n).writeBytes(body, off, n);
            ByteBuf o = enc.encode(in, ALLOC, false);
            assertThat(in.isReadable()).isFalse();
            in.release();
            byte[] chunk = new byte[o.readableBytes()];
            o.readBytes(chunk);
            o.release();
            out.write(chunk);
            off += n;
        }
        ByteBuf last = enc.encode(Unpooled.EMPTY_BUFFER, ALLOC, true);
        byte[] tail = new byte[last.readableBytes()];
        last.readBytes(tail);
        last.release();
        out.write(tail);
        enc.close(); // idempotent after the end
        byte[] encoded = out.toByteArray();
        assertThat(encoded.length).isLessThan(body.length / 3);
        assertThat(decode(a, encoded)).isEqualTo(body);
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void eachFlushedPartIsDecodableAtOnce(Algorithm a) throws Exception {
        // A streamed response must not wait in the encoder: what went in is readable from what came out.
        StreamEncoder enc = encoder(a, a.defaultLevel);
        byte[] first = "data: first event\n\n".getBytes(StandardCharsets.US_ASCII);
        ByteBuf o = enc.encode(Unpooled.wrappedBuffer(first), ALLOC, false);
        byte[] encoded = new byte[o.readableBytes()];
        o.readBytes(encoded);
        o.release();
        enc.close();
        if (a == Algorithm.BROTLI) {
            // BrotliInputStream fails at the end of its input before handing out what it decoded: decode by hand.
            DecoderJNI.Wrapper d = new DecoderJNI.Wrapper(64 * 1024);
            try {
                d.getInputBuffer().put(encoded);
                d.push(encoded.length);
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                while (d.getStatus() == DecoderJNI.Status.NEEDS_MORE_OUTPUT || d.hasOutput()) {
                    ByteBuffer b = d.pull();
                    byte[] bytes = new byte[b.remaining()];
                    b.get(bytes);
                    got.write(bytes);
                }
                assertThat(d.getStatus()).isEqualTo(DecoderJNI.Status.NEEDS_MORE_INPUT);
                assertThat(got.toByteArray()).isEqualTo(first);
            } finally {
                d.destroy();
            }
            return;
        }
        InputStream in = new ByteArrayInputStream(encoded);
        InputStream d = a == Algorithm.GZIP ? new GZIPInputStream(in) : new ZstdInputStream(in);
        byte[] got = d.readNBytes(first.length);
        assertThat(got).isEqualTo(first);
    }

    @Test
    void emptyBodyIsAValidStream() throws Exception {
        for (Algorithm a : Algorithm.values()) {
            StreamEncoder enc = encoder(a, a.defaultLevel);
            ByteBuf o = enc.encode(Unpooled.EMPTY_BUFFER, ALLOC, true);
            byte[] encoded = new byte[o.readableBytes()];
            o.readBytes(encoded);
            o.release();
            assertThat(decode(a, encoded)).as(a.name()).isEmpty();
        }
    }

    @Test
    void acceptEncodingQValues() {
        List<Encoding> offered = List.of(new Encoding(Algorithm.ZSTD, 3), new Encoding(Algorithm.BROTLI, 4),
                new Encoding(Algorithm.GZIP, 6));
        assertThat(choose("gzip", offered)).isEqualTo(Algorithm.GZIP);
        assertThat(choose("gzip, br, zstd", offered)).isEqualTo(Algorithm.ZSTD); // ties: configured order
        assertThat(choose("gzip;q=0.5, br;q=0.8", offered)).isEqualTo(Algorithm.BROTLI);
        assertThat(choose("gzip;q=1.0, br;q=0.999", offered)).isEqualTo(Algorithm.GZIP);
        assertThat(choose("*;q=0.1, zstd;q=0", offered)).isEqualTo(Algorithm.BROTLI);
        assertThat(choose("*", offered)).isEqualTo(Algorithm.ZSTD);
        assertThat(choose("identity;q=0", offered)).isNull();
        assertThat(choose("gzip;q=0", offered)).isNull();
        assertThat(choose("identity", offered)).isNull();
        assertThat(choose("", offered)).isNull();
        assertThat(choose("x-gzip", offered)).isEqualTo(Algorithm.GZIP);
        assertThat(choose("GZIP ; Q=0.3", offered)).isEqualTo(Algorithm.GZIP);
        assertThat(choose("gzip;q=2", offered)).isNull(); // malformed q: the entry is ignored
        assertThat(choose("deflate, compress", offered)).isNull();
        assertThat(AcceptEncoding.choose(List.of(), offered)).isNull();
        assertThat(AcceptEncoding.choose(List.of("br;q=0.2", "gzip;q=0.4"), offered).algorithm()).isEqualTo(Algorithm.GZIP);
        assertThat(choose("gzip, br", List.of(new Encoding(Algorithm.GZIP, 1)))).isEqualTo(Algorithm.GZIP);
    }

    private static Algorithm choose(String header, List<Encoding> offered) {
        Encoding e = AcceptEncoding.choose(List.of(header), offered);
        return e == null ? null : e.algorithm();
    }
}
