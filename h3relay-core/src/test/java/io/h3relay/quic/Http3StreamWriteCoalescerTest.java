package io.h3relay.quic;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.quic.QuicStreamFrame;
import io.netty.util.CharsetUtil;
import org.junit.jupiter.api.Test;

import java.nio.channels.ClosedChannelException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What an h3 request stream receives from {@link Http3StreamWriteCoalescer}: the buffers written between two
 * flushes as one message, and the FIN with the last of them, so that quiche makes one datagram of a small
 * response instead of one per frame plus one for the FIN.
 */
class Http3StreamWriteCoalescerTest {

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, CharsetUtil.US_ASCII);
    }

    @Test
    void buffersBetweenFlushesLeaveAsOne() {
        EmbeddedChannel ch = new EmbeddedChannel(new Http3StreamWriteCoalescer(true));
        ch.write(bytes("head"));
        ch.write(bytes("-body"));
        assertThat((Object) ch.readOutbound()).as("nothing before the flush").isNull();
        ch.flush();
        ByteBuf out = ch.readOutbound();
        assertThat(out.toString(CharsetUtil.US_ASCII)).isEqualTo("head-body");
        out.release();
        assertThat((Object) ch.readOutbound()).isNull();
        ch.finishAndReleaseAll();
    }

    @Test
    void anOwnedFrameTakesTheLaterWritesInsteadOfBeingCopied() {
        Http3StreamWriteCoalescer coalescer = new Http3StreamWriteCoalescer(true);
        EmbeddedChannel ch = new EmbeddedChannel(coalescer);
        ByteBuf head = ch.alloc().directBuffer(8);
        head.writeCharSequence("head", CharsetUtil.US_ASCII);
        coalescer.writeOwned(ch.pipeline().firstContext(), head, ch.voidPromise());
        ByteBuf body = bytes("-body, longer than the head's first capacity");
        ch.write(body);
        ch.flush();
        ByteBuf out = ch.readOutbound();
        assertThat(out).as("the owned buffer itself, grown").isSameAs(head);
        assertThat(out.toString(CharsetUtil.US_ASCII)).isEqualTo("head-body, longer than the head's first capacity");
        assertThat(body.refCnt()).as("a copied write is released").isZero();
        out.release();
        ch.finishAndReleaseAll();
    }

    @Test
    void copiesStopAtTheCopyCapacity() {
        Http3StreamWriteCoalescer coalescer = new Http3StreamWriteCoalescer(true);
        EmbeddedChannel ch = new EmbeddedChannel(coalescer);
        ByteBuf head = ch.alloc().directBuffer(16);
        head.writeZero(2000);
        coalescer.writeOwned(ch.pipeline().firstContext(), head, ch.voidPromise());
        for (int i = 0; i < 10; i++) {
            ch.write(Unpooled.buffer(2000).writeZero(2000));
        }
        ch.flush();
        ByteBuf out = ch.readOutbound();
        assertThat(out.readableBytes()).isEqualTo(22_000);
        assertThat(out).as("past 16 KiB of copies the rest is kept as components").isNotSameAs(head);
        out.release();
        ch.finishAndReleaseAll();
    }

    @Test
    void theFinRidesWithTheLastWrite() {
        Http3StreamWriteCoalescer coalescer = new Http3StreamWriteCoalescer(true);
        EmbeddedChannel ch = new EmbeddedChannel(coalescer);
        ch.write(bytes("head"));
        ChannelPromise last = ch.newPromise();
        ch.write(bytes("-last"), last);
        coalescer.endStreamWith(last);
        ch.flush();
        QuicStreamFrame frame = ch.readOutbound();
        assertThat(frame.hasFin()).isTrue();
        assertThat(frame.content().toString(CharsetUtil.US_ASCII)).isEqualTo("head-last");
        frame.release();
        assertThat(last.isSuccess()).as("the last write's promise completes with the frame").isTrue();
        assertThat((Object) ch.readOutbound()).isNull();
        ch.finishAndReleaseAll();
    }

    @Test
    void anEmptyEndPutsTheFinOnWhatIsPending() {
        Http3StreamWriteCoalescer coalescer = new Http3StreamWriteCoalescer(true);
        EmbeddedChannel ch = new EmbeddedChannel(coalescer);
        assertThat(coalescer.endStreamWithPending()).as("nothing pending: the caller ends the stream").isNull();
        ch.write(bytes("head-only"));
        ChannelFuture end = coalescer.endStreamWithPending();
        assertThat(end).isNotNull();
        ch.flush();
        QuicStreamFrame frame = ch.readOutbound();
        assertThat(frame.hasFin()).isTrue();
        assertThat(frame.content().toString(CharsetUtil.US_ASCII)).isEqualTo("head-only");
        frame.release();
        assertThat(end.isSuccess()).isTrue();
        ch.finishAndReleaseAll();
    }

    @Test
    void largeBuffersAreKeptWholeAndInOrder() {
        EmbeddedChannel ch = new EmbeddedChannel(new Http3StreamWriteCoalescer(true));
        String big = "x".repeat(5000);
        ch.write(bytes("a"));
        ch.write(bytes(big));
        ch.write(bytes("z"));
        ch.flush();
        ByteBuf out = ch.readOutbound();
        assertThat(out.toString(CharsetUtil.US_ASCII)).isEqualTo("a" + big + "z");
        out.release();
        ch.finishAndReleaseAll();
    }

    @Test
    void otherMessagesFlushWhatCameBeforeThem() {
        EmbeddedChannel ch = new EmbeddedChannel(new Http3StreamWriteCoalescer(true));
        ch.write(bytes("first"));
        ch.writeAndFlush("not a buffer");
        ByteBuf first = ch.readOutbound();
        assertThat(first.toString(CharsetUtil.US_ASCII)).isEqualTo("first");
        first.release();
        assertThat((Object) ch.readOutbound()).isEqualTo("not a buffer");
        ch.finishAndReleaseAll();
    }

    @Test
    void closeFailsAndReleasesUnflushedWrites() {
        EmbeddedChannel ch = new EmbeddedChannel(new Http3StreamWriteCoalescer(true));
        ByteBuf pending = bytes("x".repeat(5000)); // kept as is (not copied), so its release is visible
        ChannelPromise p = ch.newPromise();
        ch.write(pending, p);
        ch.close();
        assertThat(p.cause()).isInstanceOf(ClosedChannelException.class);
        assertThat(pending.refCnt()).isZero();
        ch.finishAndReleaseAll();
    }
}
