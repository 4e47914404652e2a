package io.h3relay.policy.compression;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/** gzip (RFC 1952) around the JDK's raw deflate, sync-flushed after each part. */
final class GzipEncoder implements StreamEncoder {
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};

    private final Deflater deflater;
    private final CRC32 crc = new CRC32();
    private long size;
    private boolean started;
    private boolean closed;

    GzipEncoder(int level) {
        this.deflater = new Deflater(level, true);
    }

    @Override
    public ByteBuf encode(ByteBuf in, ByteBufAllocator alloc, boolean last) {
        int n = in.readableBytes();
        ByteBuf out = alloc.directBuffer(Math.max(64, n / 2 + 64));
        if (!started) {
            out.writeBytes(HEADER);
            started = true;
        }
        if (n > 0) {
            ByteBuffer src = in.nioBuffer();
            crc.update(src.duplicate());
            size += n;
            deflater.setInput(src);
        }
        if (last) {
            deflater.finish();
            while (!deflater.finished()) {
                deflateInto(out, Deflater.NO_FLUSH);
            }
            out.ensureWritable(8);
            out.writeIntLE((int) crc.getValue());
            out.writeIntLE((int) size);
            close();
        } else if (n > 0) {
            // SYNC_FLUSH: done once a call leaves room in the output buffer.
            while (deflateInto(out, Deflater.SYNC_FLUSH)) {
                // the output was full: more to come
            }
        }
        in.skipBytes(n);
        return out;
    }

    /** One deflate call into {@code out}'s free space; true when it filled it. */
    private boolean deflateInto(ByteBuf out, int flush) {
        if (out.writableBytes() < 64) {
            out.ensureWritable(Math.max(256, out.capacity()));
        }
        ByteBuffer dst = out.nioBuffer(out.writerIndex(), out.writableBytes());
        int room = dst.remaining();
        int written = deflater.deflate(dst, flush);
        out.writerIndex(out.writerIndex() + written);
        return written == room;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            deflater.end();
        }
    }
}
