package io.h3relay.listener.h3;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;

/**
 * Works around a defect of Netty 4.2.18's QPACK decoder: in the client's encoder instructions (Insert with Name
 * Reference into the dynamic table, Duplicate) a relative index counts back from the most recently inserted
 * entry (RFC 9204 §3.2.5), but {@code QpackDecoderDynamicTable.getEntryRelativeEncoderInstructions} counts back
 * from the oldest one. Index 0 then names the wrong entry, any other index fails and the connection is closed
 * with QPACK_ENCODER_STREAM_ERROR (Chromium uses such references).
 * <p>
 * Put first on the client's unidirectional streams (by {@link #installer}), it passes every stream but the
 * QPACK encoder stream through untouched; on that one it forwards one instruction at a time and rewrites each
 * dynamic relative index into the index Netty's formula maps onto the entry the client meant, reading the
 * table's ring (head, tail, length) from Netty's decoder just before Netty applies the instruction (Netty
 * applies it synchronously in the same read). Found by reflection; if Netty's internals differ (a later
 * Netty) or the defect is gone ({@link #NEEDED}, checked once at start), it passes everything through
 * unchanged, which is Netty's own behaviour.
 */
final class QpackEncoderStreamFix extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(QpackEncoderStreamFix.class);
    private static final long QPACK_ENCODER_STREAM = 0x02;
    private static volatile boolean warned;
    /**
     * Whether this Netty's decoder table has the defect: relative index 0 of an encoder instruction read as the
     * oldest of two entries. A Netty that fixed it (or whose internals differ) gets everything unchanged.
     */
    static final boolean NEEDED = probe();

    private final Object table; // Netty's QpackDecoderDynamicTable of this connection, or null
    private ByteBuf buffered;
    private boolean typeSeen;
    private boolean passThrough;
    private long rewritten;

    private QpackEncoderStreamFix(Object table) {
        this.table = table;
        this.passThrough = table == null;
    }

    /**
     * A handler for the connection's pipeline, before Netty's HTTP/3 handler {@code h3}: it puts a fix in front of
     * each unidirectional stream the client opens.
     */
    static ChannelHandler installer(Object http3ConnectionHandler) {
        Object table = NEEDED ? decoderTable(http3ConnectionHandler) : null;
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof QuicStreamChannel s && s.type() == QuicStreamType.UNIDIRECTIONAL && !s.isLocalCreated()) {
                    s.pipeline().addFirst("h3-qpack-fix", new QpackEncoderStreamFix(table));
                }
                ctx.fireChannelRead(msg);
            }

            @Override
            public boolean isSharable() {
                return false;
            }
        };
    }

    private static boolean probe() {
        try {
            String pkg = "io.netty.handler.codec.http3.";
            Class<?> tc = Class.forName(pkg + "QpackDecoderDynamicTable");
            java.lang.reflect.Constructor<?> c = tc.getDeclaredConstructor();
            c.setAccessible(true);
            Object t = c.newInstance();
            java.lang.reflect.Method capacity = tc.getDeclaredMethod("setCapacity", long.class);
            capacity.setAccessible(true);
            capacity.invoke(t, 4096L);
            Class<?> fc = Class.forName(pkg + "QpackHeaderField");
            java.lang.reflect.Constructor<?> f = fc.getDeclaredConstructor(CharSequence.class, CharSequence.class);
            f.setAccessible(true);
            java.lang.reflect.Method add = tc.getDeclaredMethod("add", fc);
            add.setAccessible(true);
            add.invoke(t, f.newInstance("a", "older"));
            add.invoke(t, f.newInstance("b", "newer"));
            java.lang.reflect.Method get = tc.getDeclaredMethod("getEntryRelativeEncoderInstructions", int.class);
            get.setAccessible(true);
            Object entry = get.invoke(t, 0);
            return "a".contentEquals((CharSequence) field(fc, "name").get(entry));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.debug("QPACK encoder stream fix not used: {}", e.toString());
            return false;
        }
    }

    private static Object decoderTable(Object handler) {
        try {
            Object decoder = field(handler.getClass(), "qpackDecoder").get(handler);
            return field(decoder.getClass(), "dynamicTable").get(decoder);
        } catch (ReflectiveOperationException | RuntimeException e) {
            if (!warned) {
                warned = true;
                LOG.warn("HTTP/3: cannot reach Netty's QPACK decoder table ({}); client encoder streams pass unchanged",
                        e.toString());
            }
            return null;
        }
    }

    private static Field field(Class<?> c, String name) throws NoSuchFieldException {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            try {
                Field f = k.getDeclaredField(name);
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException ignored) {
                // the superclass
            }
        }
        throw new NoSuchFieldException(name);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (passThrough || !(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (buffered == null) {
            buffered = in;
        } else {
            buffered = ctx.alloc().compositeBuffer().addComponents(true, buffered, in);
        }
        if (!typeSeen) {
            int len = varintLength(buffered);
            if (len < 0) {
                return;
            }
            typeSeen = true;
            long type = varint(buffered, buffered.readerIndex(), len);
            if (type != QPACK_ENCODER_STREAM) {
                passThrough = true;
                ByteBuf all = buffered;
                buffered = null;
                ctx.pipeline().remove(this);
                ctx.fireChannelRead(all);
                return;
            }
            ctx.fireChannelRead(buffered.readRetainedSlice(len));
        }
        int end;
        while (buffered != null && buffered.isReadable() && (end = instructionEnd(buffered)) > 0) {
            ByteBuf instruction = rewrite(ctx, buffered.readRetainedSlice(end - buffered.readerIndex()));
            ctx.fireChannelRead(instruction);
        }
        if (buffered != null && !buffered.isReadable()) {
            buffered.release();
            buffered = null;
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (buffered != null) {
            buffered.release();
            buffered = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (buffered != null && rewritten > 0) {
            LOG.debug("QPACK encoder stream: {} relative indexes rewritten", rewritten);
        }
        ctx.fireChannelInactive();
    }

    /** The instruction, or a new one with the relative index Netty needs (the input is released then). */
    private ByteBuf rewrite(ChannelHandlerContext ctx, ByteBuf ins) {
        int b = ins.getUnsignedByte(ins.readerIndex());
        int prefix;
        int flags;
        if ((b & 0xc0) == 0x80) {        // Insert with Name Reference, T=0: dynamic
            prefix = 6;
            flags = 0x80;
        } else if ((b & 0xe0) == 0x00) { // Duplicate
            prefix = 5;
            flags = 0x00;
        } else {
            return ins;
        }
        int[] read = new int[1];
        long r = prefixed(ins, ins.readerIndex(), prefix, read);
        long mapped = netty(r);
        if (mapped < 0 || mapped == r) {
            return ins;
        }
        ByteBuf out = ctx.alloc().buffer(ins.readableBytes() + 8);
        writePrefixed(out, flags, prefix, mapped);
        out.writeBytes(ins, ins.readerIndex() + read[0], ins.readableBytes() - read[0]);
        ins.release();
        rewritten++;
        return out;
    }

    /** The index Netty's formula maps onto the entry relative index {@code r} names, or -1 to leave it. */
    private long netty(long r) {
        try {
            return nettyIndex(table, r);
        } catch (ReflectiveOperationException | RuntimeException e) {
            passThrough = true;
            return -1;
        }
    }

    /** {@link #netty} for a Netty {@code QpackDecoderDynamicTable}. */
    static long nettyIndex(Object table, long r) throws ReflectiveOperationException {
        Object[] fields = (Object[]) field(table.getClass(), "fields").get(table);
        if (fields == null || fields.length == 0) {
            return -1;
        }
        int head = field(table.getClass(), "head").getInt(table);
        int tail = field(table.getClass(), "tail").getInt(table);
        int n = fields.length;
        int entries = head < tail ? n - tail + head : head - tail;
        if (r < 0 || r >= entries) {
            return -1; // not an entry: Netty's error is the right answer
        }
        int slot = Math.floorMod(head - 1 - (int) r, n);
        // Netty reads slot (index > tail ? n - index + tail : tail - index).
        return slot <= tail ? tail - slot : n - slot + tail;
    }

    /** The end (writer-relative index) of the first complete instruction, or -1 when more bytes are needed. */
    static int instructionEnd(ByteBuf in) {
        int at = in.readerIndex();
        int b = in.getUnsignedByte(at);
        int[] read = new int[1];
        if ((b & 0x80) != 0) {            // Insert with Name Reference: index (6), value string (7)
            if (prefixed(in, at, 6, read) < 0) {
                return -1;
            }
            return string(in, at + read[0], 7);
        }
        if ((b & 0x40) != 0) {            // Insert with Literal Name: name string (5, H at 0x20), value string (7)
            int nameEnd = string(in, at, 5);
            return nameEnd < 0 ? -1 : string(in, nameEnd, 7);
        }
        // Set Dynamic Table Capacity (001, 5) or Duplicate (000, 5)
        return prefixed(in, at, 5, read) < 0 ? -1 : at + read[0];
    }

    /** The end of a string literal at {@code at} whose length has an N-bit prefix, or -1. */
    private static int string(ByteBuf in, int at, int prefix) {
        if (at >= in.writerIndex()) {
            return -1;
        }
        int[] read = new int[1];
        long len = prefixed(in, at, prefix, read);
        if (len < 0 || at + read[0] + len > in.writerIndex()) {
            return -1;
        }
        return (int) (at + read[0] + len);
    }

    /** An N-bit prefix integer (RFC 7541 §5.1) at {@code at}; its byte count in read[0]; -1 when incomplete. */
    static long prefixed(ByteBuf in, int at, int prefix, int[] read) {
        int max = (1 << prefix) - 1;
        if (at >= in.writerIndex()) {
            return -1;
        }
        long v = in.getUnsignedByte(at) & max;
        int i = at + 1;
        if (v == max) {
            int shift = 0;
            while (true) {
                if (i >= in.writerIndex() || shift > 56) {
                    return -1;
                }
                int b = in.getUnsignedByte(i++);
                v += (long) (b & 0x7f) << shift;
                shift += 7;
                if ((b & 0x80) == 0) {
                    break;
                }
            }
        }
        read[0] = i - at;
        return v;
    }

    static void writePrefixed(ByteBuf out, int flags, int prefix, long v) {
        int max = (1 << prefix) - 1;
        if (v < max) {
            out.writeByte(flags | (int) v);
            return;
        }
        out.writeByte(flags | max);
        v -= max;
        while (v >= 0x80) {
            out.writeByte((int) (v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out.writeByte((int) v);
    }

    private static int varintLength(ByteBuf in) {
        if (!in.isReadable()) {
            return -1;
        }
        int len = 1 << (in.getUnsignedByte(in.readerIndex()) >> 6);
        return in.readableBytes() >= len ? len : -1;
    }

    private static long varint(ByteBuf in, int at, int len) {
        long v = in.getUnsignedByte(at) & 0x3f;
        for (int i = 1; i < len; i++) {
            v = (v << 8) | in.getUnsignedByte(at + i);
        }
        return v;
    }
}
