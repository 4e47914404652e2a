package io.h3relay.policy.compression;

import com.github.luben.zstd.EndDirective;
import com.github.luben.zstd.ZstdCompressCtx;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.ByteBuffer;

/** zstd (RFC 8878) through zstd-jni's streaming context, flushed after each part. */
final class ZstdEncoder implements StreamEncoder {
    private final ZstdCompressCtx ctx;
    private boolean closed;

    ZstdEncoder(int level) {
        ctx = new ZstdCompressCtx().setLevel(level);
    }

    @Override
    public ByteBuf encode(ByteBuf in, ByteBufAllocator alloc, boolean last) {
        int n = in.readableBytes();
        ByteBuf direct = in;
        if (!in.isDirect() || in.nioBufferCount() != 1) {
            direct = alloc.directBuffer(n);
            direct.writeBytes(in, in.readerIndex(), n);
        }
        ByteBuf out = alloc.directBuffer(Math.max(128, n / 2 + 128));
        try {
            ByteBuffer src = direct.nioBuffer(direct.readerIndex(), n);
            EndDirective op = last ? EndDirective.END : EndDirective.FLUSH;
            while (true) {
                if (out.writableBytes() < 64) {
                    out.ensureWritable(Math.max(256, out.capacity()));
                }
                ByteBuffer dst = out.nioBuffer(out.writerIndex(), out.writableBytes());
                boolean done = ctx.compressDirectByteBufferStream(dst, src, op);
                out.writerIndex(out.writerIndex() + dst.position());
                if (done && !src.hasRemaining()) {
                    break;
                }
                if (!dst.hasRemaining()) {
                    out.ensureWritable(Math.max(256, out.capacity()));
                }
            }
        } catch (RuntimeException e) {
            out.release();
            close();
            throw e;
        } finally {
            if (direct != in) {
                direct.release();
            }
        }
        in.skipBytes(n);
        if (last) {
            close();
        }
        return out;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            ctx.close();
        }
    }
}
