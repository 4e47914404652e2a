package io.h3relay.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Close frames h3relay writes, read back by Netty's RFC 6455 decoder (server side expects masked
 * frames, client side unmasked ones), and the frame-boundary tracking over frames Netty's encoder makes,
 * fed in pieces of every size.
 */
class CloseFramesTest {

    @Test
    void aMaskedCloseIsWhatAServerDecodes() {
        EmbeddedChannel server = new EmbeddedChannel(new WebSocket13FrameDecoder(true, false, 1 << 16));
        server.writeInbound(CloseFrames.close(ByteBufAllocator.DEFAULT, CloseFrames.GOING_AWAY, "idle timeout", true));
        CloseWebSocketFrame close = server.readInbound();
        assertThat(close.statusCode()).isEqualTo(1001);
        assertThat(close.reasonText()).isEqualTo("idle timeout");
        close.release();
    }

    @Test
    void anUnmaskedCloseIsWhatAClientDecodesAndALongReasonIsCut() {
        EmbeddedChannel client = new EmbeddedChannel(new WebSocket13FrameDecoder(false, false, 1 << 16));
        client.writeInbound(CloseFrames.close(ByteBufAllocator.DEFAULT, 1001, "é".repeat(100), false));
        CloseWebSocketFrame close = client.readInbound();
        assertThat(close.statusCode()).isEqualTo(1001);
        assertThat(close.content().readableBytes()).isLessThanOrEqualTo(125); // a control frame's limit
        close.release();
    }

    @Test
    void reasonsNameTheLimit() {
        assertThat(CloseFrames.reasonFor("websocket_idle_timeout: no bytes for 1000ms")).isEqualTo("idle timeout");
        assertThat(CloseFrames.reasonFor("max_websocket_duration reached")).isEqualTo("max duration reached");
        assertThat(CloseFrames.reasonFor("drain_timeout")).isEqualTo("proxy shutting down");
    }

    @Test
    void boundariesAreFoundWhateverTheFrameSizesAndPieces() {
        for (boolean masked : new boolean[] {false, true}) {
            EmbeddedChannel enc = new EmbeddedChannel(new WebSocket13FrameEncoder(masked));
            enc.writeOutbound(new TextWebSocketFrame("hi"));
            enc.writeOutbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[300])));   // 16-bit length
            enc.writeOutbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[70_000]))); // 64-bit length
            enc.writeOutbound(new TextWebSocketFrame(""));
            ByteBuf all = Unpooled.buffer();
            ByteBuf part;
            java.util.List<Integer> ends = new java.util.ArrayList<>();
            while ((part = enc.readOutbound()) != null) {
                all.writeBytes(part);
                part.release();
                // the encoder may write a frame as header + payload: a boundary is where a whole frame ended
            }
            // frame ends, computed by decoding with Netty
            EmbeddedChannel dec = new EmbeddedChannel(new WebSocket13FrameDecoder(masked, false, 1 << 20));
            int consumed = 0;
            for (int i = 0; i < all.readableBytes(); i++) {
                dec.writeInbound(all.retainedSlice(i, 1));
                Object f;
                while ((f = dec.readInbound()) != null) {
                    io.netty.util.ReferenceCountUtil.release(f);
                    ends.add(i + 1);
                }
            }
            assertThat(ends).hasSize(4);
            for (int piece : new int[] {1, 3, 7, 1000, all.readableBytes()}) {
                FrameBoundary b = new FrameBoundary();
                assertThat(b.atBoundary()).isTrue();
                for (int off = 0; off < all.readableBytes(); off += piece) {
                    int len = Math.min(piece, all.readableBytes() - off);
                    b.feed(all.slice(off, len));
                    assertThat(b.atBoundary()).as("after %d bytes (pieces of %d, masked %s)", off + len, piece, masked)
                            .isEqualTo(ends.contains(off + len));
                }
            }
            all.release();
        }
    }
}
