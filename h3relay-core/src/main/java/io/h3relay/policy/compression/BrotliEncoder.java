package io.h3relay.policy.compression;

import com.aayushatharva.brotli4j.Brotli4jLoader;
import com.aayushatharva.brotli4j.encoder.Encoder;
import com.aayushatharva.brotli4j.encoder.EncoderJNI;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/** brotli (RFC 7932) through brotli4j's streaming JNI encoder, flushed after each part. */
final class BrotliEncoder implements StreamEncoder {
    private static final int INPUT_BUFFER = 64 * 1024;
    private static final int WINDOW_BITS = 22;

    private final EncoderJNI.Wrapper encoder;
    private boolean closed;

    BrotliEncoder(int quality) {
        Brotli4jLoader.ensureAvailability();
        try {
            encoder = new EncoderJNI.Wrapper(INPUT_BUFFER, quality, WINDOW_BITS, Encoder.Mode.GENERIC);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** True when brotli4j's native library loads on this platform. */
    static boolean available() {
        return Brotli4jLoader.isAvailable();
    }

    @Override
    public ByteBuf encode(ByteBuf in, ByteBufAllocator alloc, boolean last) {
        ByteBuf out = alloc.directBuffer(Math.max(64, in.readableBytes() / 2 + 64));
        try {
            ByteBuffer input = encoder.getInputBuffer();
            while (in.isReadable()) {
                int k = Math.min(in.readableBytes(), input.capacity());
                input.clear().limit(k);
                in.readBytes(input);
                run(EncoderJNI.Operation.PROCESS, k, out);
            }
            run(last ? EncoderJNI.Operation.FINISH : EncoderJNI.Operation.FLUSH, 0, out);
            if (last && !encoder.isFinished()) {
                throw new IllegalStateException("brotli stream did not finish");
            }
        } catch (RuntimeException e) {
            out.release();
            close();
            throw e;
        }
        if (last) {
            close();
        }
        return out;
    }

    private void run(EncoderJNI.Operation op, int length, ByteBuf out) {
        encoder.push(op, length);
        while (true) {
            if (!encoder.isSuccess()) {
                throw new IllegalStateException("brotli encoding failed");
            }
            if (encoder.hasMoreOutput()) {
                out.writeBytes(encoder.pull());
            } else if (encoder.hasRemainingInput()) {
                encoder.push(op, 0);
            } else {
                return;
            }
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            encoder.destroy();
        }
    }
}
