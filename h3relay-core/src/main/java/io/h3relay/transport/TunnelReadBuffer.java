package io.h3relay.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * The receive buffer of relayed tunnels (a WebSocket over plaintext HTTP/1.1, after the 101): one per event
 * loop, reused from read to read, instead of a pooled buffer taken and given back per read (allocation and
 * release were about a quarter of the relay's Java time per WebSocket message; docs/benchmarks.md).
 *
 * <p>Installed as the allocator of a tunnel's channel; the channel's reads ask it for their buffer
 * ({@link #directBuffer(int)} on epoll, {@link #ioBuffer(int)} on NIO). The loop's buffer keeps one
 * reference of its own, so a reader's release leaves it at one; it is handed out again (cleared, retained)
 * only when that is so: nobody else holds it. A read whose bytes are still held (they wait in the other
 * side's outbound buffer or a TLS handler, a codec keeps them) therefore gets an ordinary pooled buffer, and
 * so do a larger request, an allocation with a maximum capacity, a heap buffer, and any call from another
 * thread: sharing is decided by reference counts alone, as for any Netty buffer. One buffer per loop rather
 * than per tunnel: reads on a loop happen one at a time, and ten thousand idle WebSockets hold no memory
 * for it.
 */
public final class TunnelReadBuffer implements ByteBufAllocator {
    /** Netty's largest read guess (AdaptiveRecvByteBufAllocator): any read of a tunnel fits. */
    static final int CAPACITY = 64 * 1024;

    private static final FastThreadLocal<TunnelReadBuffer> PER_LOOP = new FastThreadLocal<>() {
        @Override
        protected TunnelReadBuffer initialValue() {
            return new TunnelReadBuffer(PooledByteBufAllocator.DEFAULT);
        }

        @Override
        protected void onRemoval(TunnelReadBuffer value) {
            value.free(); // the loop's thread ends
        }
    };

    private final ByteBufAllocator delegate;
    private final Thread owner;
    /** The loop's buffer; this object holds one reference to it. */
    private ByteBuf buffer;

    private TunnelReadBuffer(ByteBufAllocator delegate) {
        this.delegate = delegate;
        this.owner = Thread.currentThread();
    }

    /**
     * Reads of {@code channel} (a tunnel from now on) go into its event loop's reused buffer when that is
     * free. Called on the channel's event loop; a channel with another allocator than the pooled default
     * (a test's, say), or a call from elsewhere, is left as it is.
     */
    public static void install(Channel channel) {
        if (channel.config().getAllocator() == PooledByteBufAllocator.DEFAULT && channel.eventLoop().inEventLoop()) {
            channel.config().setAllocator(PER_LOOP.get());
        }
    }

    /** A read's buffer: the loop's own when nobody holds it, else the delegate's. */
    @Override
    public ByteBuf ioBuffer(int initialCapacity) {
        return readBuffer(initialCapacity, false);
    }

    /**
     * Also a read's buffer: the epoll transport wraps the channel's allocator (PreferredDirectByteBufAllocator)
     * and asks it for {@code directBuffer(guess)}, not {@code ioBuffer}.
     */
    @Override
    public ByteBuf directBuffer(int initialCapacity) {
        return readBuffer(initialCapacity, true);
    }

    private ByteBuf readBuffer(int initialCapacity, boolean direct) {
        if (initialCapacity <= CAPACITY && Thread.currentThread() == owner) {
            ByteBuf b = buffer;
            if (b == null || b.refCnt() == 0) { // (0: someone released it once too often; start afresh)
                b = buffer = delegate.directBuffer(CAPACITY);
            }
            if (b.refCnt() == 1) {
                return b.clear().retain();
            }
        }
        return direct ? delegate.directBuffer(initialCapacity) : delegate.ioBuffer(initialCapacity);
    }

    private void free() {
        ByteBuf b = buffer;
        buffer = null;
        if (b != null && b.refCnt() > 0) {
            b.release();
        }
    }

    // ---- everything else is the delegate's --------------------------------------------------------------

    @Override
    public ByteBuf ioBuffer() {
        return delegate.ioBuffer();
    }

    @Override
    public ByteBuf ioBuffer(int initialCapacity, int maxCapacity) {
        return delegate.ioBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public ByteBuf buffer() {
        return delegate.buffer();
    }

    @Override
    public ByteBuf buffer(int initialCapacity) {
        return delegate.buffer(initialCapacity);
    }

    @Override
    public ByteBuf buffer(int initialCapacity, int maxCapacity) {
        return delegate.buffer(initialCapacity, maxCapacity);
    }

    @Override
    public ByteBuf heapBuffer() {
        return delegate.heapBuffer();
    }

    @Override
    public ByteBuf heapBuffer(int initialCapacity) {
        return delegate.heapBuffer(initialCapacity);
    }

    @Override
    public ByteBuf heapBuffer(int initialCapacity, int maxCapacity) {
        return delegate.heapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public ByteBuf directBuffer() {
        return delegate.directBuffer();
    }

    @Override
    public ByteBuf directBuffer(int initialCapacity, int maxCapacity) {
        return delegate.directBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public CompositeByteBuf compositeBuffer() {
        return delegate.compositeBuffer();
    }

    @Override
    public CompositeByteBuf compositeBuffer(int maxNumComponents) {
        return delegate.compositeBuffer(maxNumComponents);
    }

    @Override
    public CompositeByteBuf compositeHeapBuffer() {
        return delegate.compositeHeapBuffer();
    }

    @Override
    public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
        return delegate.compositeHeapBuffer(maxNumComponents);
    }

    @Override
    public CompositeByteBuf compositeDirectBuffer() {
        return delegate.compositeDirectBuffer();
    }

    @Override
    public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
        return delegate.compositeDirectBuffer(maxNumComponents);
    }

    @Override
    public boolean isDirectBufferPooled() {
        return delegate.isDirectBufferPooled();
    }

    @Override
    public int calculateNewCapacity(int minNewCapacity, int maxCapacity) {
        return delegate.calculateNewCapacity(minNewCapacity, maxCapacity);
    }
}
