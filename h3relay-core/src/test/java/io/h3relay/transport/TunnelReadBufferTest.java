package io.h3relay.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class TunnelReadBufferTest {

    private static ByteBufAllocator installed() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setAllocator(PooledByteBufAllocator.DEFAULT);
        TunnelReadBuffer.install(ch);
        assertThat(ch.alloc()).isInstanceOf(TunnelReadBuffer.class);
        return ch.alloc();
    }

    @Test
    void aReleasedReadBufferIsHandedOutAgainCleared() {
        ByteBufAllocator alloc = installed();
        ByteBuf first = alloc.ioBuffer(2048);
        first.writeBytes("hello".getBytes());
        assertThat(first.capacity()).isGreaterThanOrEqualTo(2048);
        first.release(); // as DirectSend does once the bytes are sent
        ByteBuf second = alloc.ioBuffer(1024);
        assertThat(second).isSameAs(first);
        assertThat(second.readerIndex()).isZero();
        assertThat(second.writerIndex()).isZero();
        assertThat(second.refCnt()).isEqualTo(2); // the reader's and the loop's own
        second.release();
    }

    /** What the epoll transport's reads call (through its PreferredDirectByteBufAllocator). */
    @Test
    void epollReadsDirectBufferRequestsAreServedTheSameWay() {
        ByteBufAllocator alloc = installed();
        ByteBuf first = alloc.directBuffer(2048);
        first.release();
        ByteBuf second = alloc.directBuffer(512);
        assertThat(second).isSameAs(first);
        ByteBuf held = alloc.directBuffer(512); // the first still held: another buffer
        assertThat(held).isNotSameAs(second);
        held.release();
        second.release();
    }

    @Test
    void aBufferStillHeldIsNotHandedOutAgain() {
        ByteBufAllocator alloc = installed();
        ByteBuf held = alloc.ioBuffer(64);
        held.writeBytes("waits in an outbound buffer".getBytes());
        ByteBuf other = alloc.ioBuffer(64);
        assertThat(other).isNotSameAs(held);
        assertThat(held.toString(java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("waits in an outbound buffer");
        other.release();
        assertThat(other.refCnt()).isZero(); // an ordinary pooled buffer, freed by its release
        held.release();
        assertThat(alloc.ioBuffer(64)).isSameAs(held); // free again: reused
        held.release();
    }

    @Test
    void largerRequestsAndOtherThreadsGetOrdinaryBuffers() throws Exception {
        ByteBufAllocator alloc = installed();
        ByteBuf own = alloc.ioBuffer(64);
        own.release();
        ByteBuf big = alloc.ioBuffer(TunnelReadBuffer.CAPACITY + 1);
        assertThat(big).isNotSameAs(own);
        big.release();
        ByteBuf bounded = alloc.directBuffer(64, 128); // not a read's request: never the loop's buffer
        assertThat(bounded).isNotSameAs(own);
        bounded.release();
        ByteBuf heap = alloc.heapBuffer(64);
        assertThat(heap).isNotSameAs(own);
        heap.release();
        CompletableFuture<ByteBuf> elsewhere = CompletableFuture.supplyAsync(() -> alloc.ioBuffer(64));
        ByteBuf fromOther = elsewhere.get(10, TimeUnit.SECONDS);
        assertThat(fromOther).isNotSameAs(own);
        fromOther.release();
    }

    @Test
    void aBufferReleasedOnceTooOftenIsReplaced() {
        ByteBufAllocator alloc = installed();
        ByteBuf b = alloc.ioBuffer(64);
        b.release();
        ByteBuf again = alloc.ioBuffer(64);
        assertThat(again).isSameAs(b);
        again.release(2); // a double release elsewhere drops the loop's own reference too
        ByteBuf fresh = alloc.ioBuffer(64);
        assertThat(fresh).isNotSameAs(b);
        assertThat(fresh.refCnt()).isEqualTo(2);
        fresh.release();
    }
}
