package io.h3relay.listener.h2;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.h3relay.config.LimitsConfig;
import io.h3relay.exchange.DownstreamExchange;
import io.h3relay.exchange.DownstreamSession;
import io.h3relay.exchange.Http2Streams;
import io.h3relay.exchange.ListenerState;
import io.h3relay.exchange.LocalResponses;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.util.ReferenceCountUtil;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzz target (issue 18): any frames after the client preface and an empty SETTINGS, on the real h2
 * connection pipeline (our codec settings and limits, {@link Http2ConnectionGuard}, {@link Http2Streams} and its
 * sessions, {@link Http2ConnectionErrors}) with an exchange that answers 200 to each complete request. No
 * exception may reach the tail of the connection's pipeline (EmbeddedChannel rethrows it), none but a client's
 * protocol error may reach {@link Http2ConnectionErrors} (recorded), and what goes out parses as frames (9-byte
 * headers whose lengths add up).
 */
@org.junit.jupiter.api.parallel.Isolated("Jazzer's hooks (e.g. its network-connection sanitizer) watch the whole JVM while it runs")
class Http2FramesFuzzTest {
    static final LimitsConfig LIMITS = new LimitsConfig(1024, 256, 512, Duration.ofMinutes(2), Duration.ofSeconds(15),
            8, 100, Duration.ofMinutes(5), Duration.ZERO, Duration.ofMinutes(5));
    private static final byte[] PREFIX;

    static {
        ByteBuf p = Unpooled.buffer();
        p.writeBytes(Http2CodecUtil.connectionPrefaceBuf());
        p.writeMedium(0).writeByte(0x4).writeByte(0).writeInt(0); // SETTINGS, empty
        PREFIX = new byte[p.readableBytes()];
        p.readBytes(PREFIX);
        p.release();
    }

    private static final ListenerState PLAIN = new ListenerState() {
        @Override
        public boolean isDraining() {
            return false;
        }

        @Override
        public String altSvc() {
            return null;
        }
    };

    static final class AnsweringExchange implements DownstreamExchange {
        private final DownstreamSession session;
        private boolean answered;

        AnsweringExchange(DownstreamSession session) {
            this.session = session;
        }

        @Override
        public void start(HttpRequest head) {
            if (head instanceof LastHttpContent) {
                answer();
            }
            ReferenceCountUtil.release(head);
        }

        private void answer() {
            if (!answered) {
                answered = true;
                session.writeResponse(LocalResponses.of(session.alloc(), 200, "ok"));
                session.exchangeFinished(true);
            }
        }

        @Override
        public void onRequestContent(HttpContent content) {
            if (content instanceof LastHttpContent) {
                answer();
            }
            content.release();
        }

        @Override
        public void onReadComplete() {
            session.readRequest(true);
        }

        @Override
        public void onWritable() {
        }

        @Override
        public void onClosed() {
        }
    }

    @FuzzTest(maxDuration = "10m")
    void anyFramesAfterThePrefaceAreHandled(byte[] data) {
        Throwable[] streamFailure = new Throwable[1];
        // A connection accepted by a server channel, as in production.
        EmbeddedChannel ch = new EmbeddedChannel(new LocalServerChannel(), DefaultChannelId.newInstance(), true, false);
        Http2FrameCodec codec = Http2Initializer.newCodec(LIMITS, Duration.ofSeconds(1));
        ch.pipeline().addLast("h2-codec", codec);
        ch.pipeline().addLast("h2-guard", new Http2ConnectionGuard(codec, 0));
        ch.pipeline().addLast("h2-streams", new Http2Streams(PLAIN, AnsweringExchange::new, 1));
        // What h2-errors would log as a failure (not a client's protocol error, not a lost connection)
        ch.pipeline().addLast("recorder", new ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                if (!(cause instanceof Http2Exception) && !(cause instanceof java.io.IOException)) {
                    streamFailure[0] = cause;
                }
                ctx.fireExceptionCaught(cause);
            }
        });
        ch.pipeline().addLast("h2-errors", new Http2ConnectionErrors());
        try {
            ch.writeInbound(Unpooled.wrappedBuffer(PREFIX));
            int split = data.length == 0 ? 1 : 1 + (data[0] & 0x7f);
            for (int off = 1; off < data.length && ch.isOpen(); off += split) {
                ch.writeInbound(Unpooled.copiedBuffer(data, off, Math.min(split, data.length - off)));
                ch.runPendingTasks();
            }
            ch.runPendingTasks();
            ch.checkException();
            assertThat(streamFailure[0]).as("an internal error on the connection").isNull();
            ByteBuf out = Unpooled.buffer();
            ByteBuf b;
            while ((b = ch.readOutbound()) != null) {
                out.writeBytes(b);
                b.release();
            }
            try {
                while (out.readableBytes() >= 9) {
                    int len = out.readUnsignedMedium();
                    out.skipBytes(6);
                    assertThat(out.readableBytes()).as("frame payload").isGreaterThanOrEqualTo(len);
                    out.skipBytes(len);
                }
                assertThat(out.readableBytes()).as("trailing bytes").isZero();
            } finally {
                out.release();
            }
        } finally {
            ch.finishAndReleaseAll();
        }
    }
}
